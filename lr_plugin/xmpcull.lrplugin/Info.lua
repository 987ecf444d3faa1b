--[[ Plug-in manifest. Runs in Lightroom's restricted loader: only string,
LOC, WIN_ENV, MAC_ENV and _VERSION exist here, so no require or import. ]]

return {
  LrSdkVersion = 10.0,
  LrSdkMinimumVersion = 6.0, -- applyDevelopSettings needs 6.0
  LrToolkitIdentifier = 'org.xmpcull.lightroom',
  LrPluginName = LOC '$$$/xmpcull/PluginName=xmpcull',
  LrPluginInfoUrl = 'https://github.com/xmpcull/xmpcull',
  LrMetadataProvider = 'MetadataDefinition.lua',
  LrPluginInfoProvider = 'PluginInfoProvider.lua',
  LrLibraryMenuItems = {
    { title = LOC '$$$/xmpcull/Menu/Sync=Sync xmpcull results', file = 'MenuSync.lua',
      enabledWhen = 'photosAvailable' },
    { title = LOC '$$$/xmpcull/Menu/Collections=Create xmpcull collections', file = 'MenuCollections.lua' },
    { title = LOC '$$$/xmpcull/Menu/Picks=Set pick flags from decisions', file = 'MenuPicks.lua',
      enabledWhen = 'photosAvailable' },
    { title = LOC '$$$/xmpcull/Menu/Crops=Apply proposed crops', file = 'MenuCrops.lua',
      enabledWhen = 'photosAvailable' },
    { title = LOC '$$$/xmpcull/Menu/Clear=Clear xmpcull data', file = 'MenuClear.lua',
      enabledWhen = 'photosAvailable' },
  },
  VERSION = { major = 0, minor = 1, revision = 0, build = 0 },
}
