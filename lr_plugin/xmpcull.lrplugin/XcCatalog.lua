--[[ Every catalog write the plug-in makes goes through this module.

Why: Lightroom only accepts writes inside catalog:withWriteAccessDo, gates do
not nest, a long gate freezes the UI and other tasks, and a keyword or
collection created in a gate cannot be used (other than by photo:addKeyword)
until that gate has returned. This module turns per-photo plans (XcDecide)
into writes that respect all of that: one gate per batch of photos, nothing
but writes inside a gate, LrTasks.pcall around each photo so one failure does
not lose the batch, and no gate at all when there is nothing to write.

ctx = { catalog, plugin, LrTasks, progress = LrProgressScope or nil }
--]]

local XcCatalog = {}

XcCatalog.GATE_TIMEOUT = 30 -- seconds to wait for write access before giving up a batch

local function gate(ctx, actionName, fn)
  local status = ctx.catalog:withWriteAccessDo(actionName, fn, { timeout = XcCatalog.GATE_TIMEOUT })
  ctx.gates = (ctx.gates or 0) + 1
  return status == nil or status == 'executed'
end

local function splitPath(path)
  local parts = {}
  for part in string.gmatch(path, '[^|]+') do parts[#parts + 1] = part end
  return parts
end

--- Make sure every keyword path ("a|b|c") exists; index maps path -> LrKeyword
-- and is filled in. One gate per missing depth, because a keyword created in
-- a gate cannot be the parent of another until that gate returns.
function XcCatalog.ensureKeywords(ctx, paths, index, actionName)
  local byDepth, maxDepth = {}, 0
  for _, path in ipairs(paths) do
    local parts = splitPath(path)
    local prefix
    for depth, name in ipairs(parts) do
      prefix = prefix and (prefix .. '|' .. name) or name
      if not index[prefix] then
        byDepth[depth] = byDepth[depth] or {}
        byDepth[depth][prefix] = name
        if depth > maxDepth then maxDepth = depth end
      end
    end
  end
  for depth = 1, maxDepth do
    local level = byDepth[depth]
    if level then
      local names = {}
      for prefix in pairs(level) do names[#names + 1] = prefix end
      table.sort(names)
      local ok = gate(ctx, actionName, function()
        for _, prefix in ipairs(names) do
          local parentPath = string.match(prefix, '^(.*)|[^|]+$')
          local parent = parentPath and index[parentPath] or nil
          index[prefix] = ctx.catalog:createKeyword(level[prefix], {}, true, parent, true)
        end
      end)
      if not ok then error('xmpcull: the catalog was busy; keywords could not be created') end
    end
  end
  return index
end

local function applyOne(ctx, item, index)
  local photo, plan = item.photo, item.plan
  for _, change in ipairs(plan.fields) do
    photo:setPropertyForPlugin(ctx.plugin, change.id, change.value)
  end
  for _, path in ipairs(plan.addKeywords) do photo:addKeyword(index[path]) end
  for _, path in ipairs(plan.removeKeywords) do
    if index[path] then photo:removeKeyword(index[path]) end
  end
  if plan.rating then photo:setRawMetadata('rating', plan.rating.value) end
  if plan.label then photo:setRawMetadata('label', plan.label.value) end
  if plan.pickStatus then photo:setRawMetadata('pickStatus', plan.pickStatus) end
  if plan.develop then photo:applyDevelopSettings(plan.develop.settings, plan.develop.historyName) end
end

--- Apply plans ({photo, path, plan}) in gates of batchSize photos.
-- Returns { written = n, failed = {{path, message}}, canceled = bool }.
function XcCatalog.applyPlans(ctx, items, opts)
  local result = { written = 0, failed = {}, canceled = false }
  if #items == 0 then return result end
  local index = opts.keywordIndex or {}
  local wanted, seen = {}, {}
  for _, item in ipairs(items) do
    for _, path in ipairs(item.plan.addKeywords) do
      if not seen[path] then seen[path] = true wanted[#wanted + 1] = path end
    end
  end
  XcCatalog.ensureKeywords(ctx, wanted, index, opts.actionName)
  local batchSize = opts.batchSize or 500
  local progress = ctx.progress
  for first = 1, #items, batchSize do
    if progress and progress:isCanceled() then result.canceled = true break end
    local last = math.min(first + batchSize - 1, #items)
    local done = 0
    local ok = gate(ctx, opts.actionName, function()
      for i = first, last do
        local item = items[i]
        local success, message = ctx.LrTasks.pcall(applyOne, ctx, item, index)
        if success then done = done + 1
        else result.failed[#result.failed + 1] = { path = item.path, message = tostring(message) } end
      end
    end)
    if ok then result.written = result.written + done
    else
      for i = first, last do
        result.failed[#result.failed + 1] = { path = items[i].path, message = 'catalog busy, batch skipped' }
      end
    end
    if progress then
      progress:setPortionComplete(last, #items)
    end
    ctx.LrTasks.yield() -- let Lightroom breathe between gates
  end
  return result
end

--- Create what `layout` describes and is not there yet.
-- layout = { setName, smart = {{name, searchDesc}}, existing = {set, smartNames,
-- groupSet, groupCollections}, groupSetName, groups = {groupId = {photos}} }
-- Returns the number of collections created and photos added.
function XcCatalog.createCollections(ctx, layout, opts)
  local catalog = ctx.catalog
  local existing = layout.existing
  local set = existing.set
  local created, added = 0, 0
  local action = opts.actionName
  if not set then
    gate(ctx, action, function() set = catalog:createCollectionSet(layout.setName, nil, true) end)
  end
  local missingSmart = {}
  for _, spec in ipairs(layout.smart) do
    if not existing.smartNames[spec.name] then missingSmart[#missingSmart + 1] = spec end
  end
  local groupSet = existing.groupSet
  local needGroupSet = layout.groups ~= nil and groupSet == nil
  if #missingSmart > 0 or needGroupSet then
    gate(ctx, action, function()
      for _, spec in ipairs(missingSmart) do
        catalog:createSmartCollection(spec.name, spec.searchDesc, set, true)
        created = created + 1
      end
      if needGroupSet then groupSet = catalog:createCollectionSet(layout.groupSetName, set, true) end
    end)
  end
  if not layout.groups then return created, added end
  local collections = existing.groupCollections or {}
  local missingGroups = {}
  for groupId in pairs(layout.groups) do
    if not collections[groupId] then missingGroups[#missingGroups + 1] = groupId end
  end
  table.sort(missingGroups)
  if #missingGroups > 0 then
    gate(ctx, action, function()
      for _, groupId in ipairs(missingGroups) do
        collections[groupId] = catalog:createCollection(groupId, groupSet, true)
        created = created + 1
      end
    end)
  end
  -- Membership: only photos not yet in their group's collection, in batches.
  local pending = {}
  local groupIds = {}
  for groupId in pairs(layout.groups) do groupIds[#groupIds + 1] = groupId end
  table.sort(groupIds)
  for _, groupId in ipairs(groupIds) do
    local members = {}
    for _, photo in ipairs(collections[groupId]:getPhotos()) do members[photo] = true end
    for _, photo in ipairs(layout.groups[groupId]) do
      if not members[photo] then pending[#pending + 1] = { collection = collections[groupId], photo = photo } end
    end
  end
  local batchSize = opts.batchSize or 500
  for first = 1, #pending, batchSize do
    local last = math.min(first + batchSize - 1, #pending)
    gate(ctx, action, function()
      for i = first, last do
        pending[i].collection:addPhotos({ pending[i].photo })
        added = added + 1
      end
    end)
  end
  return created, added
end

return XcCatalog
