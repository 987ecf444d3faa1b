-- luacheck config for the Lightroom Classic plug-in. Lightroom runs Lua 5.1.
stds.lightroom = {
  -- Globals Lightroom injects into plug-in scripts.
  read_globals = { 'import', 'LOC', '_PLUGIN', 'WIN_ENV', 'MAC_ENV' },
}
stds.lrinfo = {
  -- Info.lua runs in a restricted loader: nothing but these.
  read_globals = { 'string', 'LOC', 'WIN_ENV', 'MAC_ENV', '_VERSION' },
}
std = 'lua51+lightroom'
max_line_length = 120
files['xmpcull.lrplugin/Info.lua'] = { std = 'lrinfo' }
