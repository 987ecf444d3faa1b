-- Library menu item: runs the 'sync' command (see XcMenu).
require('XcMenu').run('sync')
