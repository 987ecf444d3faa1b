-- Library menu item: runs the 'collections' command (see XcMenu).
require('XcMenu').run('collections')
