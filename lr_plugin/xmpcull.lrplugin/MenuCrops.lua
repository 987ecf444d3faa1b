-- Library menu item: runs the 'crops' command (see XcMenu).
require('XcMenu').run('crops')
