--[[ Plug-in Manager section: the preferences (see XcPrefs for defaults). ]]

local LrPrefs = import 'LrPrefs'
local LrView = import 'LrView'

local XcPrefs = require 'XcPrefs'

local function sectionsForTopOfDialog(f, _)
  local prefs = LrPrefs.prefsForPlugin()
  for key, value in pairs(XcPrefs.resolve(prefs)) do prefs[key] = value end
  local bind = LrView.bind
  return {
    {
      title = 'xmpcull',
      bind_to_object = prefs,
      f:row { f:checkbox { title = 'Overwrite color labels set by the user', value = bind 'overwriteLabels' } },
      f:row { f:checkbox { title = 'Overwrite star ratings set by the user', value = bind 'overwriteRatings' } },
      f:row { f:checkbox { title = 'Replace crops made by the user', value = bind 'overwriteCrops' } },
      f:row { f:checkbox { title = 'One collection per duplicate group', value = bind 'groupCollections' } },
      f:row {
        f:static_text { title = 'Photos per catalog transaction:', alignment = 'right', width = LrView.share 'label' },
        f:edit_field { value = bind 'batchSize', min = 1, max = 5000, precision = 0, width_in_digits = 5 },
      },
      f:row {
        f:static_text { title = 'Lowest crop confidence to apply:', alignment = 'right', width = LrView.share 'label' },
        f:edit_field { value = bind 'cropMinConfidence', min = 0, max = 1, precision = 2, width_in_digits = 5 },
      },
      f:row {
        f:static_text { title = 'Crop aspect to apply (blank = most confident):', alignment = 'right',
                        width = LrView.share 'label' },
        f:edit_field { value = bind 'cropAspect', width_in_chars = 8 },
      },
    },
  }
end

return { sectionsForTopOfDialog = sectionsForTopOfDialog }
