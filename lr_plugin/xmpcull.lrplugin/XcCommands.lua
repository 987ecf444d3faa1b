--[[ The five menu commands: read the catalog, decide, hand plans to XcCatalog.

Why: each command follows the same shape — read everything it needs outside
any write gate (batch reads, sidecar files), decide per photo with XcDecide,
then let XcCatalog write in batches — and reports a summary table. The
Lightroom modules come in through ctx, so this file has no imports and runs
against the fake SDK in tests.

ctx = { catalog, plugin, prefs, LrTasks, LrFileUtils, LrXml,
        progress = LrProgressScope or nil, confirm = function(count, message) -> bool }
--]]

local XcFields = require 'XcFields'
local XcXmp = require 'XcXmp'
local XcSidecar = require 'XcSidecar'
local XcDecide = require 'XcDecide'
local XcCatalog = require 'XcCatalog'

local XcCommands = {}

XcCommands.YIELD_EVERY = 200 -- photos read between yields to the UI

local function rootPrefix() return XcFields.KEYWORD_ROOT .. '|' end

local function keywordPath(keyword, cache)
  local path = cache[keyword]
  if path then return path end
  local parent = keyword:getParent()
  path = parent and (keywordPath(parent, cache) .. '|' .. keyword:getName()) or keyword:getName()
  cache[keyword] = path
  return path
end

local function isOurs(path)
  return path == XcFields.KEYWORD_ROOT or string.sub(path, 1, #rootPrefix()) == rootPrefix()
end

local function tick(ctx, i, total, caption)
  local progress = ctx.progress
  if progress then
    if caption and i == 1 then progress:setCaption(caption) end
    progress:setPortionComplete(i, total)
  end
  if i % XcCommands.YIELD_EVERY == 0 then ctx.LrTasks.yield() end
end

local function canceled(ctx) return ctx.progress ~= nil and ctx.progress:isCanceled() end

--- Current state of each photo (see XcDecide), read in batch calls outside
-- any gate. Also returns the keyword index (path -> LrKeyword) of our tree.
function XcCommands.readStates(ctx, photos, opts)
  opts = opts or {}
  local catalog = ctx.catalog
  local raw = catalog:batchGetRawMetadata(photos,
    { 'path', 'rating', 'colorNameForLabel', 'pickStatus', 'keywords', 'fileFormat' })
  local formatted = catalog:batchGetFormattedMetadata(photos, { 'label' })
  local props = catalog:batchGetPropertyForPlugin(photos, ctx.plugin, XcFields.ids())
  local states, index, cache = {}, {}, {}
  for i, photo in ipairs(photos) do
    local r = raw[photo] or {}
    local paths = {}
    for _, keyword in ipairs(r.keywords or {}) do
      local path = keywordPath(keyword, cache)
      if isOurs(path) then
        paths[#paths + 1] = path
        index[path] = keyword
      end
    end
    local state = {
      photo = photo, path = r.path, fields = props[photo] or {}, rating = r.rating,
      colorLabel = r.colorNameForLabel, labelText = (formatted[photo] or {}).label,
      pickStatus = r.pickStatus, keywordPaths = paths, isVideo = r.fileFormat == 'VIDEO',
    }
    if opts.develop and not state.isVideo then
      local settings = photo:getDevelopSettings() or {}
      state.crop = { left = settings.CropLeft, top = settings.CropTop, right = settings.CropRight,
                     bottom = settings.CropBottom, angle = settings.CropAngle }
    end
    states[i] = state
    if i % XcCommands.YIELD_EVERY == 0 then ctx.LrTasks.yield() end
  end
  return states, index
end

--- Existing keywords of our tree not yet on any target photo (so a sync does
-- not create them again).
local function indexExistingKeywords(ctx, index)
  local cache = {}
  local function walk(keyword)
    local path = keywordPath(keyword, cache)
    if not index[path] then index[path] = keyword end
    for _, child in ipairs(keyword:getChildren()) do walk(child) end
  end
  for _, keyword in ipairs(ctx.catalog:getKeywords()) do
    if keyword:getName() == XcFields.KEYWORD_ROOT then walk(keyword) end
  end
  return index
end

--- Read and parse the first sidecar of a photo that carries xmpcull data.
-- Returns record, or nil plus 'missing' | 'no-data' | 'other-file' (the
-- sidecar is another file's: the raw of a RAW+JPEG pair shown as two photos)
-- | 'parse-error', message.
function XcCommands.loadRecord(ctx, photoPath)
  local found, parseError, otherFile = false, nil, false
  for _, candidate in ipairs(XcSidecar.candidates(photoPath)) do
    if ctx.LrFileUtils.exists(candidate.path) == 'file' then
      found = true
      local ok, record, message = ctx.LrTasks.pcall(function()
        local bytes = ctx.LrFileUtils.readFile(candidate.path)
        if not bytes then return nil, 'unreadable' end
        if #bytes > XcSidecar.MAX_BYTES then return nil, 'too large for a sidecar' end
        return XcXmp.parse(ctx.LrXml.parseXml(XcSidecar.toXmlText(bytes)))
      end)
      if not ok then parseError = candidate.path .. ': ' .. tostring(record)
      elseif not record then parseError = candidate.path .. ': ' .. tostring(message)
      elseif record.hasData then
        if XcSidecar.belongsTo(candidate, record, photoPath) then return record end
        otherFile = true
      end
    end
  end
  if parseError then return nil, 'parse-error', parseError end
  if otherFile then return nil, 'other-file' end
  if found then return nil, 'no-data' end
  return nil, 'missing'
end

local function newSummary(total)
  return { total = total, changed = 0, unchanged = 0, missing = 0, noData = 0, otherFile = 0, parseErrors = 0,
           failed = 0, skipped = 0, canceled = false, gates = 0, problems = {} }
end

local function finish(ctx, summary, items, result)
  summary.changed = result.written
  summary.failed = summary.failed + #result.failed
  for _, f in ipairs(result.failed) do summary.problems[#summary.problems + 1] = f end
  summary.canceled = summary.canceled or result.canceled
  if result.canceled then summary.notWritten = #items - result.written - #result.failed end
  summary.gates = ctx.gates or 0
  return summary
end

local function write(ctx, items, index, actionName)
  return XcCatalog.applyPlans(ctx, items, {
    actionName = actionName, batchSize = ctx.prefs.batchSize, keywordIndex = index })
end

--- Sync xmpcull results from sidecars into the catalog.
function XcCommands.sync(ctx, photos)
  ctx.gates = 0
  local summary = newSummary(#photos)
  local states, index = XcCommands.readStates(ctx, photos)
  indexExistingKeywords(ctx, index)
  local labelMap = ctx.catalog:getLabelMapToColorName()
  local items = {}
  for i, state in ipairs(states) do
    if canceled(ctx) then summary.canceled = true break end
    tick(ctx, i, #states, 'Reading sidecars')
    local record, kind, message = XcCommands.loadRecord(ctx, state.path)
    if record then
      local ok, plan = ctx.LrTasks.pcall(XcDecide.syncPlan, record, state, ctx.prefs, labelMap)
      if not ok then
        summary.failed = summary.failed + 1
        summary.problems[#summary.problems + 1] = { path = state.path, message = tostring(plan) }
      elseif XcDecide.isEmpty(plan) then summary.unchanged = summary.unchanged + 1
      else items[#items + 1] = { photo = state.photo, path = state.path, plan = plan } end
    elseif kind == 'missing' then summary.missing = summary.missing + 1
    elseif kind == 'no-data' then summary.noData = summary.noData + 1
    elseif kind == 'other-file' then summary.otherFile = summary.otherFile + 1
    else
      summary.parseErrors = summary.parseErrors + 1
      summary.problems[#summary.problems + 1] = { path = state.path, message = message }
    end
  end
  if summary.canceled then return summary end
  if ctx.progress then ctx.progress:setCaption('Writing to the catalog') end
  return finish(ctx, summary, items, write(ctx, items, index, 'Sync xmpcull results'))
end

local function planAll(ctx, photos, planner, opts)
  ctx.gates = 0
  local summary = newSummary(#photos)
  local states, index = XcCommands.readStates(ctx, photos, opts)
  local items, reasons = {}, {}
  for i, state in ipairs(states) do
    tick(ctx, i, #states)
    local plan, reason = planner(state)
    if plan and not XcDecide.isEmpty(plan) then
      items[#items + 1] = { photo = state.photo, path = state.path, plan = plan, state = state }
    else
      summary.unchanged = summary.unchanged + 1
      if reason then reasons[reason] = (reasons[reason] or 0) + 1 end
    end
  end
  summary.reasons = reasons
  return summary, items, index
end

--- Set pick flags from decisions, on unflagged photos, after confirmation.
function XcCommands.setPicks(ctx, photos)
  local summary, items, index = planAll(ctx, photos, XcDecide.pickPlan)
  local picked, rejected = 0, 0
  for _, item in ipairs(items) do
    if item.plan.pickStatus == 1 then picked = picked + 1 else rejected = rejected + 1 end
  end
  summary.picked, summary.rejected = picked, rejected
  if #items == 0 then return summary end
  local message = string.format('%d photos will be flagged Picked and %d Rejected. '
    .. 'Photos that already have a flag are left alone.', picked, rejected)
  if not ctx.confirm(#items, message) then
    summary.declined = true
    summary.unchanged = summary.unchanged + #items
    return summary
  end
  return finish(ctx, summary, items, write(ctx, items, index, 'Set pick flags from xmpcull'))
end

--- Apply the proposed crop where the photo has none (or has ours).
function XcCommands.applyCrops(ctx, photos)
  local prefs = ctx.prefs
  local summary, items, index = planAll(ctx, photos, function(state) return XcDecide.cropPlan(state, prefs) end,
    { develop = true })
  return finish(ctx, summary, items, write(ctx, items, index, 'Apply xmpcull crops'))
end

--- Remove our fields and keywords (and our own rating/label) from photos.
function XcCommands.clear(ctx, photos)
  local summary, items, index = planAll(ctx, photos, XcDecide.clearPlan)
  return finish(ctx, summary, items, write(ctx, items, index, 'Clear xmpcull data'))
end

XcCommands.SET_NAME = 'xmpcull'
XcCommands.GROUP_SET_NAME = 'Duplicate groups'
XcCommands.BATCH_SET_NAME = 'AI batches'
XcCommands.SIMILAR_SET_NAME = 'Similar sets'

local function equals(fieldId, value)
  return { combine = 'intersect', { criteria = XcFields.criterion(fieldId), operation = '==', value = value } }
end

--- The smart collections, on our searchable fields.
function XcCommands.smartCollections()
  return {
    { name = 'Duplicates to review', searchDesc = equals('dupRole', 'duplicate') },
    { name = 'Keepers', searchDesc = equals('dupRole', 'keeper') },
    { name = 'Best of burst', searchDesc = equals('burstBest', 'yes') },
    { name = 'In a similar set', searchDesc = { combine = 'intersect',
      { criteria = XcFields.criterion('similarSet'), operation = 'notEmpty', value = '' } } },
    { name = 'Best of similar set', searchDesc = equals('similarRole', 'best') },
    { name = 'Needs review', searchDesc = equals('needsReview', 'yes') },
    { name = 'Eyes closed', searchDesc = equals('eyes', 'some-closed') },
    { name = 'Crop proposals', searchDesc = { combine = 'intersect',
      { criteria = XcFields.criterion('cropConfidence'), operation = 'notEmpty', value = '' } } },
    { name = 'AI generated', searchDesc = { combine = 'intersect',
      { criteria = XcFields.criterion('aiGenerator'), operation = 'notEmpty', value = '' } } },
  }
end

local function findByName(list, name)
  for _, item in ipairs(list or {}) do
    if item:getName() == name then return item end
  end
  return nil
end

local function existingLayout(catalog, groupSetName)
  local existing = { smartNames = {}, groupCollections = {} }
  existing.set = findByName(catalog:getChildCollectionSets(), XcCommands.SET_NAME)
  if existing.set then
    for _, c in ipairs(existing.set:getChildCollections()) do existing.smartNames[c:getName()] = true end
    existing.groupSet = findByName(existing.set:getChildCollectionSets(), groupSetName)
    if existing.groupSet then
      for _, c in ipairs(existing.groupSet:getChildCollections()) do existing.groupCollections[c:getName()] = c end
    end
  end
  return existing
end

--- Photos by the value of one of our fields (only photos that have it).
local function photosBy(ctx, fieldId)
  local photos = ctx.catalog:findPhotos { searchDesc = { combine = 'intersect',
    { criteria = XcFields.criterion(fieldId), operation = 'notEmpty', value = '' } } }
  local props = ctx.catalog:batchGetPropertyForPlugin(photos, ctx.plugin, { fieldId })
  local groups = {}
  for _, photo in ipairs(photos) do
    local value = (props[photo] or {})[fieldId]
    if value then
      groups[value] = groups[value] or {}
      table.insert(groups[value], photo)
    end
  end
  return groups
end

--- Create the xmpcull collection set, smart collections, one collection per
-- similar set and per batch of AI variations and, if the preference asks, one per duplicate group.
function XcCommands.createCollections(ctx)
  ctx.gates = 0
  local catalog = ctx.catalog
  local opts = { actionName = 'Create xmpcull collections', batchSize = ctx.prefs.batchSize }
  local layout = { setName = XcCommands.SET_NAME, groupSetName = XcCommands.GROUP_SET_NAME,
                   smart = XcCommands.smartCollections(),
                   existing = existingLayout(catalog, XcCommands.GROUP_SET_NAME) }
  if ctx.prefs.groupCollections then layout.groups = photosBy(ctx, 'dupGroup') end
  local created, added = XcCatalog.createCollections(ctx, layout, opts)
  -- One collection per similar set and per AI batch, each kind in a collection set of its own.
  for _, kind in ipairs({ { field = 'similarSet', setName = XcCommands.SIMILAR_SET_NAME },
                          { field = 'aiBatch', setName = XcCommands.BATCH_SET_NAME } }) do
    local groups = photosBy(ctx, kind.field)
    if next(groups) ~= nil then
      local kindLayout = { setName = XcCommands.SET_NAME, groupSetName = kind.setName, smart = {},
                           existing = existingLayout(catalog, kind.setName), groups = groups }
      local more, moreAdded = XcCatalog.createCollections(ctx, kindLayout, opts)
      created, added = created + more, added + moreAdded
    end
  end
  return { created = created, added = added, gates = ctx.gates }
end

local function plural(n, word) return string.format('%d %s%s', n, word, n == 1 and '' or 's') end

--- One-paragraph, human summary of a command's result table.
function XcCommands.describe(summary)
  local lines = {}
  if summary.created then
    lines[1] = string.format('%s created, %s added to group collections.',
      plural(summary.created, 'collection'), plural(summary.added, 'photo'))
    return table.concat(lines, '\n')
  end
  lines[#lines + 1] = string.format('%s changed, %d unchanged.', plural(summary.changed, 'photo'), summary.unchanged)
  if summary.picked then
    lines[#lines + 1] = string.format('Flags: %d picked, %d rejected%s.', summary.picked, summary.rejected,
      summary.declined and ' (not applied: cancelled)' or '')
  end
  if summary.missing > 0 then lines[#lines + 1] = plural(summary.missing, 'photo') .. ' without a sidecar.' end
  if summary.noData > 0 then lines[#lines + 1] = plural(summary.noData, 'sidecar') .. ' without xmpcull data.' end
  if summary.otherFile > 0 then
    lines[#lines + 1] = plural(summary.otherFile, 'photo') .. (summary.otherFile == 1 and ' shares' or ' share')
      .. ' the sidecar of a raw file '
      .. '(RAW+JPEG shown as two photos): the results are on the raw.'
  end
  if summary.parseErrors > 0 then lines[#lines + 1] = plural(summary.parseErrors, 'unreadable sidecar') .. '.' end
  if summary.failed > 0 then lines[#lines + 1] = plural(summary.failed, 'photo') .. ' failed.' end
  if summary.reasons and summary.reasons['user-crop'] then
    lines[#lines + 1] = plural(summary.reasons['user-crop'], 'photo') .. ' kept their own crop.'
  end
  if summary.canceled then lines[#lines + 1] = 'Stopped: cancelled.' end
  for i = 1, math.min(#summary.problems, 10) do
    local p = summary.problems[i]
    lines[#lines + 1] = '  ' .. tostring(p.path) .. ': ' .. tostring(p.message)
  end
  return table.concat(lines, '\n')
end

return XcCommands
