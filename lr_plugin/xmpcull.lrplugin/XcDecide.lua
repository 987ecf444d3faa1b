--[[ What to change on one photo, given its sidecar record, its current state
in the catalog and the user's preferences.

Why: this is where "never overwrite the user's own rating, label, flag or
crop" lives, so it is pure Lua with no Lightroom imports and is tested
directly. Every function returns a plan; an empty plan means "write nothing",
which is what makes a second sync a no-op.

state = { fields = {id = string}, rating = n, colorLabel = 'red'|...|'none',
          labelText = string, keywordPaths = {...}, pickStatus = -1|0|1,
          crop = {left, top, right, bottom, angle}, isVideo = bool }
plan  = { fields = {{id, value}...}, addKeywords = {...}, removeKeywords = {...},
          rating = {value = n|nil}, label = {value = text|nil},
          pickStatus = n, develop = {settings = {...}, historyName = text} }
--]]

local XcFields = require 'XcFields'

local XcDecide = {}

XcDecide.COLORS = { 'red', 'yellow', 'green', 'blue', 'purple' }
local EPS = 1e-4

local function newPlan()
  return { fields = {}, addKeywords = {}, removeKeywords = {} }
end

function XcDecide.isEmpty(plan)
  return plan == nil or (#plan.fields == 0 and #plan.addKeywords == 0 and #plan.removeKeywords == 0
    and plan.rating == nil and plan.label == nil and plan.pickStatus == nil and plan.develop == nil)
end

local function setField(plan, state, id, value)
  if state.fields[id] ~= value then plan.fields[#plan.fields + 1] = { id = id, value = value } end
end

--- Colour name for a label text: a colour word, or a text of the catalog's
-- active label set (labelMap: colour -> text), compared without case.
function XcDecide.labelColor(labelText, labelMap)
  if not labelText or labelText == '' then return nil end
  local lowered = string.lower(labelText)
  for _, color in ipairs(XcDecide.COLORS) do
    if lowered == color then return color end
  end
  for _, color in ipairs(XcDecide.COLORS) do
    local text = labelMap and labelMap[color]
    if text and string.lower(text) == lowered then return color end
  end
  return nil
end

--- The text the catalog's active label set uses for a colour.
function XcDecide.labelTextFor(color, labelMap)
  local text = labelMap and labelMap[color]
  if text and text ~= '' then return text end
  return string.upper(string.sub(color, 1, 1)) .. string.sub(color, 2)
end

local function hasRating(state) return state.rating ~= nil and state.rating > 0 end

local function hasLabel(state)
  local color = state.colorLabel
  return (color ~= nil and color ~= '' and color ~= 'none') or (state.labelText ~= nil and state.labelText ~= '')
end

local function ratingIsOurs(state)
  return hasRating(state) and tonumber(state.fields.ratingSet or '') == state.rating
end

local function labelIsOurs(state)
  return hasLabel(state) and state.fields.labelSet ~= nil and state.fields.labelSet == state.labelText
end

-- A RatingSet/LabelSet is a proposal only while the sidecar still carries
-- that value: the engine keeps the record as a tombstone after the user
-- removed the rating or label, and a tombstone must not bring it back.
local function proposedRating(record)
  if record.ratingSet and record.rating == record.ratingSet then return record.ratingSet end
  return nil
end

local function proposedLabel(record)
  if record.labelSet and record.label == record.labelSet then return record.labelSet end
  return nil
end

local function planRating(plan, record, state, prefs)
  local proposed = proposedRating(record)
  if not proposed or proposed < 1 or proposed > 5 or state.rating == proposed then return end
  local recorded = tonumber(state.fields.ratingSet or '')
  -- The plug-in set this very rating before and it is gone: the user removed it in Lightroom.
  if not hasRating(state) and recorded == proposed and not prefs.overwriteRatings then return end
  if hasRating(state) and not ratingIsOurs(state) and not prefs.overwriteRatings then return end
  plan.rating = { value = proposed }
  setField(plan, state, 'ratingSet', string.format('%d', proposed))
end

local function planLabel(plan, record, state, prefs, labelMap)
  local color = XcDecide.labelColor(proposedLabel(record), labelMap)
  if not color or state.colorLabel == color then return end
  local text = XcDecide.labelTextFor(color, labelMap)
  if not hasLabel(state) and state.fields.labelSet == text and not prefs.overwriteLabels then return end
  if hasLabel(state) and not labelIsOurs(state) and not prefs.overwriteLabels then return end
  plan.label = { value = text }
  setField(plan, state, 'labelSet', text)
end

local function planKeywords(plan, wanted, state)
  local have, want = {}, {}
  for _, p in ipairs(state.keywordPaths or {}) do have[p] = true end
  for _, p in ipairs(wanted) do
    want[p] = true
    if not have[p] then plan.addKeywords[#plan.addKeywords + 1] = p end
  end
  for _, p in ipairs(state.keywordPaths or {}) do
    if not want[p] then plan.removeKeywords[#plan.removeKeywords + 1] = p end
  end
  table.sort(plan.addKeywords)
  table.sort(plan.removeKeywords)
end

--- Plan for "Sync xmpcull results".
function XcDecide.syncPlan(record, state, prefs, labelMap)
  local plan = newPlan()
  local desired = XcFields.fromRecord(record)
  for _, f in ipairs(XcFields.PUBLIC) do setField(plan, state, f.id, desired[f.id]) end
  setField(plan, state, 'cropProposals', desired.cropProposals)
  setField(plan, state, 'cropEngine', desired.cropEngine)
  planRating(plan, record, state, prefs)
  planLabel(plan, record, state, prefs, labelMap)
  planKeywords(plan, XcFields.keywordPaths(record), state)
  return plan
end

--- Pick flag the synced fields call for: 1 picked, -1 rejected, nil none.
-- Rejected only on the engine's "duplicate" decision: a duplicate it sent to
-- review (ambiguous distance) is for a person to judge. Keepers and best
-- frames are picked even when something else about them needs a look: they
-- stand for their group, and a failed shot is never picked.
function XcDecide.wantedPick(fields)
  local decision = fields.decision
  if decision == 'duplicate' then return -1 end
  if decision == 'failed' then return nil end
  if decision == 'keeper' or decision == 'best-frame' then return 1 end
  if fields.dupRole == 'keeper' or fields.burstBest == 'yes' then return 1 end
  if decision == nil and fields.dupRole == 'duplicate' then return -1 end
  return nil
end

--- Plan for "Set pick flags from decisions": only unflagged photos change.
function XcDecide.pickPlan(state)
  local wanted = XcDecide.wantedPick(state.fields)
  if wanted == nil or (state.pickStatus ~= nil and state.pickStatus ~= 0) then return nil end
  local plan = newPlan()
  plan.pickStatus = wanted
  return plan
end

local function close(a, b) return math.abs(a - b) < EPS end

function XcDecide.hasCrop(crop)
  if not crop then return false end
  return not (close(crop.left or 0, 0) and close(crop.top or 0, 0) and close(crop.right or 1, 1)
    and close(crop.bottom or 1, 1) and close(crop.angle or 0, 0))
end

local function sameEdges(a, b)
  return close(a.left, b.left) and close(a.top, b.top) and close(a.right, b.right) and close(a.bottom, b.bottom)
    and close(a.angle or 0, 0)
end

function XcDecide.encodeEdges(p)
  return string.format('%.6f,%.6f,%.6f,%.6f', p.left, p.top, p.right, p.bottom)
end

local function decodeEdges(text)
  local l, t, r, b = string.match(text or '', '^([%d%.%-]+),([%d%.%-]+),([%d%.%-]+),([%d%.%-]+)$')
  if not l then return nil end
  return { left = tonumber(l), top = tonumber(t), right = tonumber(r), bottom = tonumber(b) }
end

--- The proposal to apply: the chosen aspect if set; else the crop the run
-- itself applied (`--apply-crops`, already past the run's own threshold), so
-- a JPEG gets what Lightroom would read from a raw's sidecar; else the most
-- confident one at or above the minimum confidence.
function XcDecide.chooseCrop(proposals, prefs, engine)
  local best
  local aspect = prefs.cropAspect
  if (not aspect or aspect == '') and engine then return engine end
  for _, p in ipairs(proposals) do
    local eligible
    if aspect and aspect ~= '' then eligible = p.aspect == aspect
    else eligible = p.confidence >= (prefs.cropMinConfidence or 0) end
    if eligible and (best == nil or p.confidence > best.confidence) then best = p end
  end
  return best
end

--- Plan for "Apply proposed crops"; second value says why nothing is planned
-- ('no-proposal', 'unchanged', 'user-crop', 'video').
function XcDecide.cropPlan(state, prefs)
  if state.isVideo then return nil, 'video' end
  local chosen = XcDecide.chooseCrop(XcFields.decodeCrops(state.fields.cropProposals), prefs,
    XcFields.decodeCrops(state.fields.cropEngine)[1])
  if not chosen then return nil, 'no-proposal' end
  local crop = state.crop or {}
  local current = { left = crop.left or 0, top = crop.top or 0, right = crop.right or 1,
                    bottom = crop.bottom or 1, angle = crop.angle or 0 }
  -- Compared first: a full-frame proposal on an uncropped photo is no change.
  if sameEdges(current, chosen) then return nil, 'unchanged' end
  if XcDecide.hasCrop(current) then
    local ours = decodeEdges(state.fields.cropApplied)
    local isOurs = ours ~= nil and sameEdges(current, ours)
    if not isOurs and not prefs.overwriteCrops then return nil, 'user-crop' end
  end
  local plan = newPlan()
  plan.develop = {
    settings = { CropLeft = chosen.left, CropTop = chosen.top, CropRight = chosen.right,
                 CropBottom = chosen.bottom, CropAngle = 0 },
    historyName = 'xmpcull: crop ' .. chosen.aspect,
  }
  setField(plan, state, 'cropApplied', XcDecide.encodeEdges(chosen))
  return plan
end

--- Plan for "Clear xmpcull data": our fields and keywords go; a rating or
-- label goes only while it is still the one the plug-in set.
function XcDecide.clearPlan(state)
  local plan = newPlan()
  for _, id in ipairs(XcFields.ids()) do setField(plan, state, id, nil) end
  planKeywords(plan, {}, state)
  if ratingIsOurs(state) then plan.rating = { value = nil } end
  if labelIsOurs(state) then plan.label = { value = '' } end
  return plan
end

return XcDecide
