-- Library menu item: runs the 'clear' command (see XcMenu).
require('XcMenu').run('clear')
