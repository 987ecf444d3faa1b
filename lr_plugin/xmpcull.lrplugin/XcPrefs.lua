--[[ The plug-in's preferences: defaults and validation.

Why: preferences are stored by LrPrefs and edited in the Plug-in Manager; the
commands need one resolved, validated copy (a plain table, read once per
command, so a change in the middle of a run cannot mix settings). No
Lightroom imports.
--]]

local XcPrefs = {}

XcPrefs.DEFAULTS = {
  overwriteLabels = false,  -- replace a label the user set
  overwriteRatings = false, -- replace a rating the user set
  overwriteCrops = false,   -- replace a crop the user made
  batchSize = 500,          -- photos per catalog write transaction
  groupCollections = false, -- one collection per duplicate group
  cropMinConfidence = 0.6,  -- lowest confidence applied automatically
  cropAspect = '',          -- apply this aspect ("4:5") instead of the most confident
}

local function clamp(n, low, high) return math.max(low, math.min(high, n)) end

--- Resolved preferences from a stored table (LrPrefs object or plain table).
function XcPrefs.resolve(stored)
  stored = stored or {}
  local out = {}
  for key, default in pairs(XcPrefs.DEFAULTS) do
    local value = stored[key]
    if type(value) ~= type(default) then value = default end
    out[key] = value
  end
  out.batchSize = clamp(math.floor(out.batchSize), 1, 5000)
  out.cropMinConfidence = clamp(out.cropMinConfidence, 0, 1)
  return out
end

return XcPrefs
