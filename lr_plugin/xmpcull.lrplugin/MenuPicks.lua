-- Library menu item: runs the 'picks' command (see XcMenu).
require('XcMenu').run('picks')
