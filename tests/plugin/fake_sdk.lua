--[[ A strict fake of the Lightroom Classic SDK, for running the plug-in in
real Lua 5.1 (lupa) from pytest.

It raises where Lightroom raises (or where the SDK documentation says a call
is not allowed), so the plug-in cannot pass a test by doing something that
would fail in Lightroom:
  * catalog writes outside catalog:withWriteAccessDo, nested gates;
  * yields inside a gate (the gate body runs under plain pcall, like a C call);
  * reads/gates outside an LrTasks task (code must run in a coroutine);
  * unknown raw/formatted metadata keys, wrong rating/label/pick types;
  * setPropertyForPlugin on undeclared fields, wrong types, enum values not
    declared, searchable text over 511 bytes;
  * keywords/collections created in a gate used (as parent, addPhotos) before
    that gate returns — photo:addKeyword is the documented exception;
  * malformed smart-collection searchDesc, sdktext: on non-searchable fields.
Everything that writes is counted in sdk.stats.writes.
--]]

local FakeXml = require 'fake_xml'

local Fake = {}

local function pack(...) return { n = select('#', ...), ... } end

-- A fresh list, as the SDK's getters return: callers may not change the fake's own.
local function copyList(list)
  local out = {}
  for _, v in ipairs(list) do out[#out + 1] = v end
  return out
end

local COLORS = { red = true, yellow = true, green = true, blue = true, purple = true }
local RAW_KEYS = {
  path = true, uuid = true, fileFormat = true, rating = true, pickStatus = true, colorNameForLabel = true,
  keywords = true, isVirtualCopy = true, dimensions = true, fileSize = true,
}
local FORMATTED_KEYS = { label = true, fileName = true, folderName = true, title = true }
local STRING_OPS = { any = true, all = true, words = true, noneOf = true, beginsWith = true, endsWith = true,
  empty = true, notEmpty = true, ['=='] = true, ['!='] = true }
local DEVELOP_KEYS = { CropLeft = true, CropTop = true, CropRight = true, CropBottom = true, CropAngle = true }

function Fake.new(opts)
  local sdk = {
    stats = { gates = 0, writes = 0, yields = 0, gateNames = {} },
    photos = {}, byPath = {}, rootKeywords = {}, rootSets = {}, rootCollections = {},
    labelMap = opts.labelMap or { red = 'Red', yellow = 'Yellow', green = 'Green', blue = 'Blue', purple = 'Purple' },
    prefs = opts.prefs or {}, dialogs = {}, confirmAnswer = 'ok', cancelAfter = nil, busyGates = 0,
    tasks = {}, gateDepth = 0, gateSerial = 0, xmlMode = opts.xmlMode or 'qualified',
    pluginId = opts.pluginId,
  }
  local plugin = { id = opts.pluginId, path = opts.pluginPath, enabled = true }
  sdk.plugin = plugin

  -- Field declarations come from the plug-in's own metadata provider.
  local fields = {}
  for _, def in ipairs(opts.definitions.metadataFieldsForPhotos) do fields[def.id] = def end
  sdk.fields = fields

  local function requireTask(what)
    if coroutine.running() == nil then
      error(what .. ' must be called from within an asynchronous task started using LrTasks', 2)
    end
  end
  local function requireGate(what)
    requireTask(what)
    if sdk.gateDepth == 0 then
      error(what .. ': must be called from within catalog:withWriteAccessDo', 2)
    end
    sdk.stats.writes = sdk.stats.writes + 1
  end
  local function requireUsable(object, what)
    if object and object.createdInGate ~= nil and object.createdInGate == sdk.gateSerial and sdk.gateDepth > 0 then
      error(what .. ': ' .. object.kind .. ' "' .. object.name .. '" was created in this transaction '
        .. 'and is not usable until withWriteAccessDo returns', 3)
    end
  end

  ---------------------------------------------------------------- keywords
  local Keyword = {}
  Keyword.__index = Keyword
  function Keyword:getName() return self.name end
  function Keyword:getParent() return self.parent end
  function Keyword:getChildren()
    return copyList(self.children)
  end

  ---------------------------------------------------------------- photos
  local Photo = {}
  Photo.__index = Photo

  local function colorOf(labelText)
    if labelText == nil or labelText == '' then return 'none' end
    for color, text in pairs(sdk.labelMap) do
      if text == labelText then return color end
    end
    return 'none' -- a custom ("white") label has no color name
  end

  function Photo:getRawMetadata(key)
    requireTask('LrPhoto:getRawMetadata')
    if not RAW_KEYS[key] then error('LrPhoto:getRawMetadata: unknown key "' .. tostring(key) .. '"', 2) end
    if key == 'colorNameForLabel' then return colorOf(self.label) end
    if key == 'keywords' then
      return copyList(self.keywordList)
    end
    if key == 'isVirtualCopy' then return false end
    return self[key]
  end

  function Photo:getFormattedMetadata(key)
    requireTask('LrPhoto:getFormattedMetadata')
    if not FORMATTED_KEYS[key] then error('LrPhoto:getFormattedMetadata: unknown key "' .. tostring(key) .. '"', 2) end
    if key == 'label' then return self.label or '' end
    if key == 'fileName' then return string.match(self.path, '([^/]+)$') end
    return nil
  end

  function Photo:setRawMetadata(key, value)
    requireGate('LrPhoto:setRawMetadata')
    if key == 'rating' then
      if value ~= nil and (type(value) ~= 'number' or value ~= math.floor(value) or value < 1 or value > 5) then
        error('LrPhoto:setRawMetadata: rating must be nil or 1..5, got ' .. tostring(value), 2)
      end
      self.rating = value
    elseif key == 'label' then
      if value ~= nil and type(value) ~= 'string' then error('LrPhoto:setRawMetadata: label must be a string', 2) end
      self.label = value or ''
    elseif key == 'pickStatus' then
      if value ~= -1 and value ~= 0 and value ~= 1 then
        error('LrPhoto:setRawMetadata: pickStatus must be -1, 0 or 1, got ' .. tostring(value), 2)
      end
      self.pickStatus = value
    else
      error('LrPhoto:setRawMetadata: unknown or read-only key "' .. tostring(key) .. '"', 2)
    end
  end

  local function checkPlugin(pluginOrId, what)
    local id = type(pluginOrId) == 'table' and pluginOrId.id or pluginOrId
    if id ~= sdk.pluginId then error(what .. ': unknown plug-in ' .. tostring(id), 3) end
  end
  local function checkField(fieldId, what)
    local def = fields[fieldId]
    if not def then error(what .. ': field "' .. tostring(fieldId) .. '" is not declared by the plug-in', 3) end
    return def
  end

  function Photo:getPropertyForPlugin(pluginOrId, fieldId)
    requireTask('LrPhoto:getPropertyForPlugin')
    checkPlugin(pluginOrId, 'LrPhoto:getPropertyForPlugin')
    checkField(fieldId, 'LrPhoto:getPropertyForPlugin')
    return self.props[fieldId]
  end

  function Photo:setPropertyForPlugin(pluginOrId, fieldId, value)
    requireGate('LrPhoto:setPropertyForPlugin')
    checkPlugin(pluginOrId, 'LrPhoto:setPropertyForPlugin')
    local def = checkField(fieldId, 'LrPhoto:setPropertyForPlugin')
    if value ~= nil then
      if type(value) ~= 'string' then
        error('LrPhoto:setPropertyForPlugin: field "' .. fieldId .. '" takes a string, got ' .. type(value), 2)
      end
      -- Like Lightroom: the permission is read from the values table; a field-level key is ignored.
      if def.dataType == 'enum' and not (def.values and def.values.allowPluginToSetOtherValues) then
        local known = false
        for _, v in ipairs(def.values) do if v.value == value then known = true end end
        if not known then error('LrPhoto:setPropertyForPlugin: "' .. value .. '" is not a value of ' .. fieldId, 2) end
      end
      if def.searchable and #value > 511 then error('LrPhoto:setPropertyForPlugin: searchable text over 511 bytes', 2) end
    end
    self.props[fieldId] = value
  end

  function Photo:addKeyword(keyword)
    requireGate('LrPhoto:addKeyword')
    if getmetatable(keyword) ~= Keyword then error('LrPhoto:addKeyword: not an LrKeyword', 2) end
    if not self.keywordSet[keyword] then
      self.keywordSet[keyword] = true
      self.keywordList[#self.keywordList + 1] = keyword
    end
  end

  function Photo:removeKeyword(keyword)
    requireGate('LrPhoto:removeKeyword')
    if getmetatable(keyword) ~= Keyword then error('LrPhoto:removeKeyword: not an LrKeyword', 2) end
    self.keywordSet[keyword] = nil
    for i, k in ipairs(self.keywordList) do
      if k == keyword then table.remove(self.keywordList, i) break end
    end
  end

  function Photo:getDevelopSettings()
    requireTask('LrPhoto:getDevelopSettings')
    local out = {}
    for k, v in pairs(self.develop) do out[k] = v end
    return out
  end

  function Photo:applyDevelopSettings(settings, historyName)
    requireGate('LrPhoto:applyDevelopSettings')
    if self.fileFormat == 'VIDEO' then error('LrPhoto:applyDevelopSettings: not an image', 2) end
    if historyName ~= nil and type(historyName) ~= 'string' then error('applyDevelopSettings: bad history name', 2) end
    for k, v in pairs(settings) do
      if not DEVELOP_KEYS[k] then error('LrPhoto:applyDevelopSettings: unexpected key ' .. tostring(k), 2) end
      if type(v) ~= 'number' then error('LrPhoto:applyDevelopSettings: ' .. k .. ' must be a number', 2) end
    end
    for k, v in pairs(settings) do self.develop[k] = v end
    self.history[#self.history + 1] = historyName or 'Plug-in settings'
  end

  function sdk.addPhoto(p)
    local photo = setmetatable({
      path = p.path, uuid = 'uuid-' .. (#sdk.photos + 1), fileFormat = p.fileFormat or 'JPG',
      rating = p.rating, label = p.label or '', pickStatus = p.pickStatus or 0,
      props = {}, keywordSet = {}, keywordList = {}, history = {},
      develop = { CropLeft = 0, CropTop = 0, CropRight = 1, CropBottom = 1, CropAngle = 0 },
    }, Photo)
    if p.crop then for k, v in pairs(p.crop) do photo.develop[k] = v end end
    sdk.photos[#sdk.photos + 1] = photo
    sdk.byPath[p.path] = photo
    return photo
  end

  ---------------------------------------------------------------- collections
  local Collection = {}
  Collection.__index = Collection
  function Collection:getName() return self.name end
  function Collection:isSmartCollection() return self.smart end
  function Collection:getSearchDescription() return self.searchDesc end
  function Collection:getPhotos()
    requireTask('LrCollection:getPhotos')
    if self.smart then return sdk.search(self.searchDesc) end
    return copyList(self.photoList)
  end
  function Collection:addPhotos(photos)
    requireGate('LrCollection:addPhotos')
    requireUsable(self, 'LrCollection:addPhotos')
    if self.smart then error('LrCollection:addPhotos: not allowed on a smart collection', 2) end
    for _, p in ipairs(photos) do
      if not self.photoSet[p] then self.photoSet[p] = true self.photoList[#self.photoList + 1] = p end
    end
  end
  function Collection:getChildCollections()
    return copyList(self.collections or {})
  end
  function Collection:getChildCollectionSets()
    return copyList(self.sets or {})
  end

  ---------------------------------------------------------------- search
  local function fieldCriterion(criteria)
    local pluginId, fieldId = string.match(criteria, '^sdktext:(.+)%.([^.]+)$')
    if not pluginId then return nil end
    if pluginId ~= sdk.pluginId then error('searchDesc: unknown plug-in in ' .. criteria, 4) end
    local def = fields[fieldId]
    if not def or not def.searchable then error('searchDesc: ' .. criteria .. ' is not a searchable field', 4) end
    return def
  end

  local function validate(desc)
    if type(desc) ~= 'table' then error('searchDesc: expected a table', 3) end
    if desc.combine ~= nil then
      if desc.combine ~= 'union' and desc.combine ~= 'intersect' and desc.combine ~= 'exclude' then
        error('searchDesc: bad combine ' .. tostring(desc.combine), 3)
      end
      if #desc == 0 then error('searchDesc: empty combine', 3) end
      for _, d in ipairs(desc) do validate(d) end
      return
    end
    if type(desc.criteria) ~= 'string' or type(desc.operation) ~= 'string' then
      error('searchDesc: a criterion needs criteria and operation strings', 3)
    end
    local def = fieldCriterion(desc.criteria)
    if not def then error('searchDesc: criterion not supported by the fake: ' .. desc.criteria, 3) end
    if def.dataType == 'enum' then
      if desc.operation ~= '==' and desc.operation ~= '!=' then error('searchDesc: enum fields take == or !=', 3) end
      local known = false
      for _, v in ipairs(def.values) do if v.value == desc.value then known = true end end
      if not known then error('searchDesc: ' .. tostring(desc.value) .. ' is not a value of ' .. def.id, 3) end
    elseif not STRING_OPS[desc.operation] then
      error('searchDesc: bad operation ' .. desc.operation .. ' for a text field', 3)
    end
  end

  local function matches(photo, desc)
    if desc.combine then
      if desc.combine == 'intersect' then
        for _, d in ipairs(desc) do if not matches(photo, d) then return false end end
        return true
      elseif desc.combine == 'union' then
        for _, d in ipairs(desc) do if matches(photo, d) then return true end end
        return false
      else
        if not matches(photo, desc[1]) then return false end
        for i = 2, #desc do if matches(photo, desc[i]) then return false end end
        return true
      end
    end
    local def = fieldCriterion(desc.criteria)
    local v = photo.props[def.id]
    local op = desc.operation
    if op == '==' then return v == desc.value end
    if op == '!=' then return v ~= desc.value end
    if op == 'notEmpty' then return v ~= nil and v ~= '' end
    if op == 'empty' then return v == nil or v == '' end
    if op == 'beginsWith' then return v ~= nil and string.sub(v, 1, #desc.value) == desc.value end
    error('fake search: operation not implemented: ' .. op)
  end

  function sdk.search(desc)
    validate(desc)
    local out = {}
    for _, p in ipairs(sdk.photos) do if matches(p, desc) then out[#out + 1] = p end end
    return out
  end

  ---------------------------------------------------------------- catalog
  local catalog = {}
  sdk.catalog = catalog

  function catalog:withWriteAccessDo(actionName, fn, timeoutParams)
    requireTask('LrCatalog:withWriteAccessDo')
    if type(actionName) ~= 'string' then error('withWriteAccessDo: action name must be a string', 2) end
    if timeoutParams ~= nil and type(timeoutParams.timeout) ~= 'number' then
      error('withWriteAccessDo: timeoutParams needs a timeout', 2)
    end
    if sdk.gateDepth > 0 then
      error('LrCatalog:withWriteAccessDo: already inside withWriteAccessDo ("' .. sdk.currentGate .. '")', 2)
    end
    if sdk.busyGates > 0 then
      sdk.busyGates = sdk.busyGates - 1
      if timeoutParams == nil then error('LrCatalog:withWriteAccessDo: write access not available', 2) end
      if timeoutParams.callback then timeoutParams.callback() end
      return 'aborted'
    end
    sdk.gateSerial = sdk.gateSerial + 1
    sdk.stats.gates = sdk.stats.gates + 1
    sdk.stats.gateNames[#sdk.stats.gateNames + 1] = actionName
    sdk.gateDepth, sdk.currentGate = 1, actionName
    -- Plain pcall: like Lightroom's C boundary, a yield in here fails.
    local ok, err = pcall(fn)
    sdk.gateDepth, sdk.currentGate = 0, nil
    if not ok then error(err, 0) end
    return 'executed'
  end

  local function batch(what, photos, getter)
    requireTask(what)
    local out = {}
    for _, p in ipairs(photos) do out[p] = getter(p) end
    return out
  end

  -- Batch reads go through the per-photo getter, so unknown keys raise the same way.
  local function batchGetter(what, method)
    return function(_, photos, keys)
      return batch(what, photos, function(p)
        local t = {}
        for _, k in ipairs(keys) do t[k] = p[method](p, k) end
        return t
      end)
    end
  end
  catalog.batchGetRawMetadata = batchGetter('LrCatalog:batchGetRawMetadata', 'getRawMetadata')
  catalog.batchGetFormattedMetadata = batchGetter('LrCatalog:batchGetFormattedMetadata', 'getFormattedMetadata')
  function catalog:batchGetPropertyForPlugin(photos, pluginOrId, fieldIds)
    checkPlugin(pluginOrId, 'LrCatalog:batchGetPropertyForPlugin')
    return batch('LrCatalog:batchGetPropertyForPlugin', photos, function(p)
      local t = {}
      for _, id in ipairs(fieldIds) do checkField(id, 'batchGetPropertyForPlugin') t[id] = p.props[id] end
      return t
    end)
  end
  function catalog:getLabelMapToColorName()
    requireTask('LrCatalog:getLabelMapToColorName')
    local out = {}
    for k, v in pairs(sdk.labelMap) do out[k] = v end
    return out
  end
  function catalog:getTargetPhotos()
    requireTask('LrCatalog:getTargetPhotos')
    return copyList(sdk.targets or sdk.photos)
  end
  function catalog:getAllPhotos()
    requireTask('LrCatalog:getAllPhotos')
    return copyList(sdk.photos)
  end
  function catalog:findPhotos(args)
    requireTask('LrCatalog:findPhotos')
    return sdk.search(args.searchDesc)
  end
  function catalog:getKeywords()
    requireTask('LrCatalog:getKeywords')
    return copyList(sdk.rootKeywords)
  end

  function catalog:createKeyword(name, synonyms, includeOnExport, parent, returnExisting)
    requireGate('LrCatalog:createKeyword')
    if type(name) ~= 'string' or name == '' then error('createKeyword: name must be a non-empty string', 2) end
    if synonyms ~= nil and type(synonyms) ~= 'table' then error('createKeyword: synonyms must be a table', 2) end
    if includeOnExport ~= nil and type(includeOnExport) ~= 'boolean' then error('createKeyword: bad includeOnExport', 2) end
    if parent ~= nil and getmetatable(parent) ~= Keyword then error('createKeyword: parent must be an LrKeyword', 2) end
    requireUsable(parent, 'LrCatalog:createKeyword')
    local siblings = parent and parent.children or sdk.rootKeywords
    for _, k in ipairs(siblings) do
      if k.name == name then
        if k.createdInGate == sdk.gateSerial then
          error('createKeyword: "' .. name .. '" was already created in this transaction', 2)
        end
        if returnExisting then return k end
        return false
      end
    end
    local k = setmetatable({ kind = 'keyword', name = name, parent = parent, children = {},
                             createdInGate = sdk.gateSerial }, Keyword)
    siblings[#siblings + 1] = k
    return k
  end

  local function createInSet(kind, name, parent, canReturnPrior, extra)
    if type(name) ~= 'string' or name == '' then error('create' .. kind .. ': bad name', 3) end
    if parent ~= nil and (getmetatable(parent) ~= Collection or not parent.isSet) then
      error('create' .. kind .. ': parent must be a collection set', 3)
    end
    requireUsable(parent, 'LrCatalog:create' .. kind)
    local list
    if kind == 'CollectionSet' then
      list = parent and parent.sets or sdk.rootSets
    else
      list = parent and parent.collections or sdk.rootCollections
    end
    for _, c in ipairs(list) do
      if c.name == name then
        if canReturnPrior then return c end
        return nil
      end
    end
    local c = setmetatable({ kind = kind, name = name, parent = parent, createdInGate = sdk.gateSerial,
                             photoSet = {}, photoList = {}, sets = {}, collections = {} }, Collection)
    for k, v in pairs(extra or {}) do c[k] = v end
    list[#list + 1] = c
    return c
  end

  function catalog:createCollectionSet(name, parent, canReturnPrior)
    requireGate('LrCatalog:createCollectionSet')
    return createInSet('CollectionSet', name, parent, canReturnPrior, { isSet = true })
  end
  function catalog:createCollection(name, parent, canReturnPrior)
    requireGate('LrCatalog:createCollection')
    return createInSet('Collection', name, parent, canReturnPrior, { smart = false })
  end
  function catalog:createSmartCollection(name, searchDesc, parent, canReturnPrior)
    requireGate('LrCatalog:createSmartCollection')
    validate(searchDesc)
    return createInSet('SmartCollection', name, parent, canReturnPrior, { smart = true, searchDesc = searchDesc })
  end
  function catalog:getChildCollectionSets()
    return copyList(sdk.rootSets)
  end
  function catalog:getChildCollections()
    return copyList(sdk.rootCollections)
  end

  ---------------------------------------------------------------- LrTasks
  local LrTasks = {}
  function LrTasks.yield()
    requireTask('LrTasks.yield')
    sdk.stats.yields = sdk.stats.yields + 1
    coroutine.yield()
  end
  LrTasks.sleep = function() LrTasks.yield() end
  function LrTasks.canYield() return coroutine.running() ~= nil and sdk.gateDepth == 0 end
  -- Yield-safe pcall: the function runs in its own coroutine and its yields
  -- are passed on to the task, as Lightroom's LrTasks.pcall allows.
  function LrTasks.pcall(f, ...)
    local co = coroutine.create(f)
    local res = pack(coroutine.resume(co, ...))
    while true do
      if not res[1] then return false, res[2] end
      if coroutine.status(co) == 'dead' then return unpack(res, 1, res.n) end
      local back = pack(coroutine.yield(unpack(res, 2, res.n)))
      res = pack(coroutine.resume(co, unpack(back, 1, back.n)))
    end
  end
  function LrTasks.startAsyncTask(f) sdk.tasks[#sdk.tasks + 1] = f end

  --- Run f as an LrTasks task (a coroutine), resuming through its yields.
  function sdk.run(f, ...)
    local co = coroutine.create(f)
    local res = pack(coroutine.resume(co, ...))
    while true do
      if not res[1] then error(res[2], 0) end
      if coroutine.status(co) == 'dead' then return unpack(res, 2, res.n) end
      res = pack(coroutine.resume(co))
    end
  end
  function sdk.runTasks()
    while #sdk.tasks > 0 do sdk.run(table.remove(sdk.tasks, 1)) end
  end

  ---------------------------------------------------------------- UI and misc
  local function progressScope(params)
    requireTask('LrProgressScope')
    local scope = { title = params.title, checks = 0, portions = {}, isDone = false }
    function scope:setPortionComplete(done, total) self.portions[#self.portions + 1] = { done, total } end
    function scope:setCaption(caption) self.caption = caption end
    function scope:setCancelable(flag) self.cancelable = flag end
    function scope:isCanceled()
      self.checks = self.checks + 1
      return sdk.cancelAfter ~= nil and self.checks > sdk.cancelAfter
    end
    function scope:done() self.isDone = true end
    sdk.lastProgress = scope
    return scope
  end
  sdk.LrProgressScope = setmetatable({}, { __call = function(_, params) return progressScope(params) end })

  local LrDialogs = {}
  function LrDialogs.message(title, message, kind)
    sdk.dialogs[#sdk.dialogs + 1] = { kind = 'message', title = title, message = message, style = kind }
  end
  function LrDialogs.confirm(title, message)
    sdk.dialogs[#sdk.dialogs + 1] = { kind = 'confirm', title = title, message = message }
    return sdk.confirmAnswer
  end
  function LrDialogs.attachErrorDialogToFunctionContext() end

  local LrFunctionContext = {}
  function LrFunctionContext.callWithContext(_, f, ...)
    local context = { addCleanupHandler = function() end, addFailureHandler = function() end }
    return f(context, ...)
  end

  local LrFileUtils = {}
  function LrFileUtils.exists(path) return opts.fileKind(path) end
  function LrFileUtils.readFile(path)
    local f = io.open(path, 'rb')
    if not f then return nil end
    local data = f:read('*a')
    f:close()
    return data
  end

  local xmlCache = {} -- parsed trees by document text; the DOM is read-only
  sdk.modules = {
    LrApplication = { activeCatalog = function() return catalog end },
    LrTasks = LrTasks,
    LrProgressScope = sdk.LrProgressScope,
    LrDialogs = LrDialogs,
    LrFunctionContext = LrFunctionContext,
    LrFileUtils = LrFileUtils,
    LrXml = { parseXml = function(text)
      sdk.stats.parses = (sdk.stats.parses or 0) + 1
      local tree = xmlCache[text]
      if not tree then
        tree = assert(loadstring('return ' .. opts.parseXml(text)))()
        xmlCache[text] = tree
      end
      return FakeXml.wrap(tree, sdk.xmlMode)
    end },
    LrPrefs = { prefsForPlugin = function() return sdk.prefs end },
  }
  function sdk.import(name)
    local m = sdk.modules[name]
    if not m then error('import: the fake SDK has no module ' .. tostring(name), 2) end
    return m
  end

  --- The ctx XcCommands expects, as XcMenu would build it.
  function sdk.context(prefs)
    return {
      catalog = catalog, plugin = plugin, prefs = prefs, LrTasks = LrTasks, LrFileUtils = LrFileUtils,
      LrXml = sdk.modules.LrXml,
      confirm = function(count, message)
        sdk.dialogs[#sdk.dialogs + 1] = { kind = 'confirm', count = count, message = message }
        return sdk.confirmAnswer == 'ok'
      end,
    }
  end

  --- Run a command as a task, with a progress scope created inside it.
  function sdk.runCommand(fn, ctx, ...)
    return sdk.run(function(...)
      ctx.progress = progressScope { title = 'test' }
      return fn(ctx, ...)
    end, ...)
  end

  function sdk.keywordPaths(photo)
    local out = {}
    for _, k in ipairs(photo.keywordList) do
      local parts, node = {}, k
      while node do table.insert(parts, 1, node.name) node = node.parent end
      out[#out + 1] = table.concat(parts, '|')
    end
    table.sort(out)
    return out
  end

  sdk.COLORS = COLORS
  return sdk
end

return Fake
