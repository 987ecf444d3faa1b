--[[ The plug-in's catalog fields, in one place.

Why: the metadata provider declares these fields, the sync turns a sidecar
record into their values, and the collections search on them. Keeping the list
here means a field cannot be written that was never declared. Plain Lua, no
Lightroom imports, so it runs under Lua 5.1 in CI.

Plug-in fields can only hold strings (numbers are formatted text) and are
searchable only as text/enum, so numbers are written with a fixed format.
--]]

local XcFields = {}

XcFields.PLUGIN_ID = 'org.xmpcull.lightroom'
XcFields.SCHEMA_VERSION = 6 -- 2: cropEngine; 3: AI fields; 4: faces, eyes; 5: similar sets; 6: decision: other values
XcFields.KEYWORD_ROOT = 'xmpcull'

local YES = { { value = nil, title = '' }, { value = 'yes', title = 'Yes' } }

-- Public fields: shown in the Metadata panel, searchable and browsable.
XcFields.PUBLIC = {
  { id = 'dupGroup', title = 'Duplicate group', dataType = 'string' },
  { id = 'dupRole', title = 'Duplicate role', dataType = 'enum',
    values = { { value = nil, title = '' }, { value = 'keeper', title = 'Keeper' },
               { value = 'duplicate', title = 'Duplicate' } } },
  { id = 'dupDistance', title = 'Distance to keeper', dataType = 'string' },
  -- Similar sets (same scene, another moment): for review, never moved.
  { id = 'similarSet', title = 'Similar set', dataType = 'string' },
  { id = 'similarRole', title = 'Similar-set role', dataType = 'enum',
    values = { { value = nil, title = '' }, { value = 'best', title = 'Best' },
               { value = 'member', title = 'Member' } } },
  { id = 'similarReason', title = 'Why similar', dataType = 'string' },
  { id = 'burstId', title = 'Burst', dataType = 'string' },
  { id = 'burstIndex', title = 'Burst frame', dataType = 'string' },
  { id = 'burstBest', title = 'Best of burst', dataType = 'enum', values = YES },
  { id = 'quality', title = 'Quality', dataType = 'string' },
  -- Faces (docs/faces.md): how many, and the eyes summary, so "eyes closed" is one search away.
  { id = 'faceCount', title = 'Faces', dataType = 'string' },
  { id = 'eyes', title = 'Eyes', dataType = 'enum',
    values = { { value = nil, title = '' }, { value = 'all-open', title = 'All open' },
               { value = 'some-closed', title = 'Some closed' }, { value = 'cant-tell', title = "Can't tell" } } },
  { id = 'cropConfidence', title = 'Crop confidence', dataType = 'string' },
  { id = 'needsReview', title = 'Needs review', dataType = 'enum', values = YES },
  -- A newer engine may write a decision this list lacks: Lightroom reads the permission
  -- inside the enum's values table (the SDK's custom-metadata sample), not at field level.
  { id = 'decision', title = 'Decision', dataType = 'enum',
    values = { { value = nil, title = '' }, { value = 'keeper', title = 'Keeper' },
               { value = 'duplicate', title = 'Duplicate' }, { value = 'best-frame', title = 'Best frame' },
               { value = 'needs-review', title = 'Needs review' }, { value = 'failed', title = 'Failed' },
               { value = 'ok', title = 'OK' },
               allowPluginToSetOtherValues = true } },
  -- AI images (the sidecar's generation section): prompt, model, seed and generator, searchable.
  { id = 'aiGenerator', title = 'AI generator', dataType = 'string' },
  { id = 'aiModel', title = 'AI model', dataType = 'string' },
  { id = 'aiPrompt', title = 'AI prompt', dataType = 'string' },
  { id = 'aiSeed', title = 'AI seed', dataType = 'string' },
  { id = 'aiDerivation', title = 'AI derivation', dataType = 'string' },
  { id = 'aiBatch', title = 'AI batch', dataType = 'string' },
}

-- Lightroom indexes at most 511 bytes of a searchable plug-in string (SDK guide, ch. 4).
XcFields.SEARCHABLE_BYTES = 511
XcFields.TRUNCATED = ' [...]' -- marks a value cut to fit; the full text stays in the sidecar

--- ``text`` cut to at most ``limit`` bytes (marker included), never inside a UTF-8 character.
function XcFields.fitSearchable(text, limit)
  limit = limit or XcFields.SEARCHABLE_BYTES
  if text == nil or #text <= limit then return text end
  local cut = limit - #XcFields.TRUNCATED
  -- The byte after the cut must start a character: UTF-8 continuation bytes are 0x80..0xBF.
  while cut > 0 do
    local nextByte = string.byte(text, cut + 1)
    if nextByte < 0x80 or nextByte >= 0xC0 then break end
    cut = cut - 1
  end
  return string.sub(text, 1, cut) .. XcFields.TRUNCATED
end

-- Private fields (no title, hidden): what the plug-in itself wrote, so a later
-- sync can tell its own rating/label/crop from the user's.
XcFields.PRIVATE = {
  { id = 'ratingSet', dataType = 'string' },
  { id = 'labelSet', dataType = 'string' },
  { id = 'cropProposals', dataType = 'string' },
  { id = 'cropApplied', dataType = 'string' },
  { id = 'cropEngine', dataType = 'string' }, -- the crop `xmpcull run --apply-crops` wrote
}

--- All field ids, public first.
function XcFields.ids()
  local ids = {}
  for _, f in ipairs(XcFields.PUBLIC) do ids[#ids + 1] = f.id end
  for _, f in ipairs(XcFields.PRIVATE) do ids[#ids + 1] = f.id end
  return ids
end

--- The metadataFieldsForPhotos table for the metadata provider.
function XcFields.definitions()
  local defs = {}
  for _, f in ipairs(XcFields.PUBLIC) do
    defs[#defs + 1] = {
      id = f.id, title = f.title, dataType = f.dataType, values = f.values,
      readOnly = true, searchable = true, browsable = true, version = 1,
    }
  end
  for _, f in ipairs(XcFields.PRIVATE) do
    defs[#defs + 1] = { id = f.id, dataType = f.dataType, version = 1 }
  end
  return defs
end

--- The smart-collection criterion for one of our fields.
function XcFields.criterion(fieldId)
  return 'sdktext:' .. XcFields.PLUGIN_ID .. '.' .. fieldId
end

local function fixed(value, decimals)
  if value == nil then return nil end
  return string.format('%.' .. decimals .. 'f', value)
end

local function integer(value)
  if value == nil then return nil end
  return string.format('%d', value)
end

--- Serialize crop proposals as "aspect l,t,r,b confidence" joined by ";".
function XcFields.encodeCrops(proposals)
  if not proposals or #proposals == 0 then return nil end
  local parts = {}
  for _, p in ipairs(proposals) do
    parts[#parts + 1] = string.format('%s %s,%s,%s,%s %s', p.aspect,
      fixed(p.left, 6), fixed(p.top, 6), fixed(p.right, 6), fixed(p.bottom, 6), fixed(p.confidence, 4))
  end
  return table.concat(parts, ';')
end

--- Inverse of encodeCrops; malformed parts are skipped.
function XcFields.decodeCrops(text)
  local out = {}
  if not text then return out end
  for part in string.gmatch(text, '[^;]+') do
    local aspect, l, t, r, b, c = string.match(part,
      '^(%S+) ([%d%.%-]+),([%d%.%-]+),([%d%.%-]+),([%d%.%-]+) ([%d%.%-]+)$')
    if aspect then
      out[#out + 1] = { aspect = aspect, left = tonumber(l), top = tonumber(t), right = tonumber(r),
                        bottom = tonumber(b), confidence = tonumber(c) }
    end
  end
  return out
end

local function bestConfidence(proposals)
  local best
  for _, p in ipairs(proposals or {}) do
    if best == nil or p.confidence > best then best = p.confidence end
  end
  return best
end

--- Field values (id -> string or nil) that a sidecar record implies.
-- Private bookkeeping fields ratingSet/labelSet/cropApplied are not derived
-- from the sidecar; the decision logic owns them.
function XcFields.fromRecord(record)
  local review = record.decision == 'needs-review'
  return {
    dupGroup = record.dupGroup,
    dupRole = record.dupRole,
    dupDistance = integer(record.dupDistance),
    similarSet = record.similarSet,
    similarRole = record.similarSet and record.similarRole or nil,
    similarReason = record.similarSet and XcFields.fitSearchable(record.similarReason) or nil,
    burstId = record.burstId,
    burstIndex = integer(record.burstIndex),
    burstBest = record.burstBest and 'yes' or nil,
    quality = fixed(record.quality, 2),
    faceCount = integer(record.faceCount),
    eyes = record.eyes,
    cropConfidence = fixed(bestConfidence(record.cropProposals), 2),
    needsReview = review and 'yes' or nil,
    decision = record.decision,
    cropProposals = XcFields.encodeCrops(record.cropProposals),
    cropEngine = record.engineCrop and XcFields.encodeCrops({ record.engineCrop }) or nil,
    aiGenerator = record.genGenerator,
    aiModel = XcFields.fitSearchable(record.genModel),
    aiPrompt = XcFields.fitSearchable(record.genPrompt),
    aiSeed = record.genSeed,
    aiDerivation = record.genDerivation,
    aiBatch = record.genBatch,
  }
end

--- Keyword paths ("xmpcull|dupes|d-1") the record implies, sorted.
function XcFields.keywordPaths(record)
  local paths = {}
  local root = XcFields.KEYWORD_ROOT
  if record.dupGroup then paths[#paths + 1] = root .. '|dupes|' .. record.dupGroup end
  if record.similarSet then paths[#paths + 1] = root .. '|similar|' .. record.similarSet end
  if record.burstId then paths[#paths + 1] = root .. '|burst|' .. record.burstId end
  if record.decision == 'needs-review' then paths[#paths + 1] = root .. '|review' end
  if record.genBatch then paths[#paths + 1] = root .. '|ai-batch|' .. record.genBatch end
  table.sort(paths)
  return paths
end

return XcFields
