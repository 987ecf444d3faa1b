--[[ LrMetadataProvider: the plug-in's photo fields (declared in XcFields).

schemaVersion goes up whenever a field changes; Lightroom then migrates the
stored values (no custom migration is needed yet).
--]]

local XcFields = require 'XcFields'

return {
  metadataFieldsForPhotos = XcFields.definitions(),
  schemaVersion = XcFields.SCHEMA_VERSION,
}
