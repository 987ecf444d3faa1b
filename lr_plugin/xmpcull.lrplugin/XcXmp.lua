--[[ Reads an xmpcull sidecar from an LrXml DOM.

Why: LrXml is a plain XML DOM and knows nothing of RDF, so the plug-in must
itself accept every way RDF can spell the same XMP: simple properties as
attributes or as elements, rdf:Seq/Bag/Alt arrays, structs written with
rdf:parseType="Resource", a nested rdf:Description or attributes on rdf:li.
Names are resolved by namespace URI, never by prefix. The DOM may report a
node name as (localName, namespaceURI) or as "prefix:local" with xmlns
attributes in scope; both are handled. No Lightroom imports.
--]]

local XcXmp = {}

local NS = {
  rdf = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xmpcull = 'http://ns.xmpcull.org/xmpcull/1.0/',
  xmp = 'http://ns.adobe.com/xap/1.0/',
  photoshop = 'http://ns.adobe.com/photoshop/1.0/',
  lr = 'http://ns.adobe.com/lightroom/1.0/',
  crs = 'http://ns.adobe.com/camera-raw-settings/1.0/',
  xmlns = 'http://www.w3.org/2000/xmlns/',
  xml = 'http://www.w3.org/XML/1998/namespace',
}
XcXmp.NS = NS

local function splitQName(qname)
  local prefix, localName = string.match(qname, '^([^:]+):(.+)$')
  if prefix then return prefix, localName end
  return nil, qname
end

local function nodeType(node)
  if node.type then return node:type() end
  return 'element'
end

-- New namespace scope: the parent's plus this element's xmlns declarations.
local function childScope(node, scope)
  local attrs = node:attributes() or {}
  local newScope
  for key, attr in pairs(attrs) do
    local qname = attr.name or key
    local prefix, localName = splitQName(qname)
    local decl
    if prefix == 'xmlns' then decl = localName
    elseif qname == 'xmlns' then decl = ''
    end
    if decl then
      newScope = newScope or setmetatable({}, { __index = scope })
      newScope[decl] = attr.value
    end
  end
  return newScope or scope
end

local function resolve(qname, ns, scope, isAttribute)
  local prefix, localName = splitQName(qname)
  if ns and ns ~= '' then return ns, localName end
  if prefix then return scope[prefix], localName end
  if isAttribute then return nil, localName end
  return scope[''], localName
end

-- (uri, localName) of an element.
local function elementName(node, scope)
  local name, ns = node:name()
  if not name then return nil, nil end
  return resolve(name, ns, scope, false)
end

-- Attributes as a list of {uri, name, value}, xmlns declarations left out.
local function attributeList(node, scope)
  local out = {}
  for key, attr in pairs(node:attributes() or {}) do
    local qname = attr.name or key
    local uri, localName = resolve(qname, attr.namespace, scope, true)
    local prefix = splitQName(key)
    local isDecl = uri == NS.xmlns or qname == 'xmlns' or prefix == 'xmlns' or splitQName(qname) == 'xmlns'
    if not isDecl then
      out[#out + 1] = { uri = uri, name = localName, value = attr.value }
    end
  end
  return out
end

local function elementChildren(node)
  local out = {}
  local count = node:childCount() or 0
  for i = 1, count do
    local child = node:childAtIndex(i)
    if nodeType(child) == 'element' then out[#out + 1] = child end
  end
  return out
end

local function isRdf(uri, localName, wanted)
  return uri == NS.rdf and localName == wanted
end

local function attrValue(attrs, uri, name)
  for _, a in ipairs(attrs) do
    if a.uri == uri and a.name == name then return a.value end
  end
  return nil
end

local readValue

-- Struct fields from attributes (non-rdf) and child property elements.
local function readFields(node, scope, into)
  for _, a in ipairs(attributeList(node, scope)) do
    if a.uri ~= NS.rdf and a.uri ~= NS.xml and a.uri then
      into[a.uri .. a.name] = a.value
    end
  end
  for _, child in ipairs(elementChildren(node)) do
    local childScopeTable = childScope(child, scope)
    local uri, localName = elementName(child, childScopeTable)
    if uri and uri ~= NS.rdf then
      into[uri .. localName] = readValue(child, childScopeTable)
    end
  end
  return into
end

-- Value of a property element: text, array or struct.
readValue = function(node, scope)
  local attrs = attributeList(node, scope)
  local children = elementChildren(node)
  if attrValue(attrs, NS.rdf, 'parseType') == 'Resource' then
    return { struct = readFields(node, scope, {}) }
  end
  local resource = attrValue(attrs, NS.rdf, 'resource')
  if resource then return resource end
  if #children == 0 then
    -- Attributes other than rdf:/xml: on a property element make it a struct.
    for _, a in ipairs(attrs) do
      if a.uri and a.uri ~= NS.rdf and a.uri ~= NS.xml then return { struct = readFields(node, scope, {}) } end
    end
    return node:text() or ''
  end
  local first = children[1]
  local firstScope = childScope(first, scope)
  local uri, localName = elementName(first, firstScope)
  if uri == NS.rdf and (localName == 'Seq' or localName == 'Bag' or localName == 'Alt') then
    local array = { array = localName }
    for _, li in ipairs(elementChildren(first)) do
      local liScope = childScope(li, firstScope)
      local liUri, liName = elementName(li, liScope)
      if isRdf(liUri, liName, 'li') then array[#array + 1] = readValue(li, liScope) end
    end
    return array
  end
  if isRdf(uri, localName, 'Description') then
    return { struct = readFields(first, firstScope, {}) }
  end
  -- Child elements without an rdf wrapper: treat as struct fields.
  return { struct = readFields(node, scope, {}) }
end

local function findDescriptions(node, scope, out)
  local nodeScope = childScope(node, scope)
  local uri, localName = elementName(node, nodeScope)
  if isRdf(uri, localName, 'Description') then
    out[#out + 1] = { node = node, scope = nodeScope }
    return out
  end
  for _, child in ipairs(elementChildren(node)) do findDescriptions(child, nodeScope, out) end
  return out
end

local function hasRdf(node, scope)
  local nodeScope = childScope(node, scope)
  local uri, localName = elementName(node, nodeScope)
  if isRdf(uri, localName, 'RDF') then return true end
  for _, child in ipairs(elementChildren(node)) do
    if hasRdf(child, nodeScope) then return true end
  end
  return false
end

--- All top-level XMP properties of a DOM, keyed by namespace URI .. name.
-- Returns nil, message when the document holds no rdf:RDF.
function XcXmp.properties(root)
  local scope = { xml = NS.xml }
  if not hasRdf(root, scope) then return nil, 'not an XMP packet (no rdf:RDF)' end
  local props = {}
  for _, d in ipairs(findDescriptions(root, scope, {})) do readFields(d.node, d.scope, props) end
  return props
end

local function text(value)
  if type(value) == 'string' then
    local trimmed = string.match(value, '^%s*(.-)%s*$')
    if trimmed ~= '' then return trimmed end
  end
  return nil
end

local function number(value)
  return tonumber(text(value) or '')
end

local function integer(value)
  local n = number(value)
  if n and n == math.floor(n) then return n end
  return nil
end

local function boolean(value)
  local t = text(value)
  if t == nil then return nil end
  t = string.lower(t)
  return t == 'true' or t == '1'
end

local function textList(value)
  local out = {}
  if type(value) == 'table' and value.array then
    for _, item in ipairs(value) do
      local t = text(item)
      if t then out[#out + 1] = t end
    end
  elseif text(value) then
    out[1] = text(value)
  end
  return out
end

local function unit(n)
  return n ~= nil and n >= 0 and n <= 1
end

local function cropProposal(item)
  if type(item) ~= 'table' or not item.struct then return nil end
  local f = item.struct
  local p = {
    aspect = text(f[NS.xmpcull .. 'Aspect']) or 'original',
    left = number(f[NS.xmpcull .. 'CropLeft']), top = number(f[NS.xmpcull .. 'CropTop']),
    right = number(f[NS.xmpcull .. 'CropRight']), bottom = number(f[NS.xmpcull .. 'CropBottom']),
    confidence = number(f[NS.xmpcull .. 'Confidence']) or 0,
  }
  if not (unit(p.left) and unit(p.top) and unit(p.right) and unit(p.bottom) and unit(p.confidence)) then
    return nil
  end
  if p.left >= p.right or p.top >= p.bottom then return nil end
  return p
end

local function edgesText(value)
  local l, t, r, b = string.match(text(value) or '', '^([%d%.%-]+),([%d%.%-]+),([%d%.%-]+),([%d%.%-]+)$')
  if not l then return nil end
  return { left = tonumber(l), top = tonumber(t), right = tonumber(r), bottom = tonumber(b) }
end

local function sameEdges(a, b)
  local eps = 1e-5
  return math.abs(a.left - b.left) < eps and math.abs(a.top - b.top) < eps
    and math.abs(a.right - b.right) < eps and math.abs(a.bottom - b.bottom) < eps
end

-- The crop xmpcull itself wrote into crs:Crop* (the run's --apply-crops):
-- the sidecar's crop while crs:HasCrop is True and it still equals
-- xmpcull:CropApplied. A crop the user changed since is not ours.
local function engineCrop(props, proposals)
  local recorded = edgesText(props[NS.xmpcull .. 'CropApplied'])
  if not recorded or not boolean(props[NS.crs .. 'HasCrop']) then return nil end
  local crop = {
    left = number(props[NS.crs .. 'CropLeft']), top = number(props[NS.crs .. 'CropTop']),
    right = number(props[NS.crs .. 'CropRight']), bottom = number(props[NS.crs .. 'CropBottom']),
  }
  if not (unit(crop.left) and unit(crop.top) and unit(crop.right) and unit(crop.bottom)) then return nil end
  if crop.left >= crop.right or crop.top >= crop.bottom then return nil end
  if (number(props[NS.crs .. 'CropAngle']) or 0) ~= 0 or not sameEdges(crop, recorded) then return nil end
  crop.aspect, crop.confidence = 'applied', 1
  for _, p in ipairs(proposals) do
    if sameEdges(p, crop) then crop.aspect, crop.confidence = p.aspect, p.confidence break end
  end
  return crop
end

--- The xmpcull record of a properties table (see XcXmp.properties).
-- record.hasData is false when the sidecar has none of our properties.
function XcXmp.record(props)
  local function ours(name) return props[NS.xmpcull .. name] end
  local hasData = false
  for key in pairs(props) do
    if string.sub(key, 1, #NS.xmpcull) == NS.xmpcull then hasData = true break end
  end
  local proposals = {}
  local raw = ours('CropProposals')
  if type(raw) == 'table' and raw.array then
    for _, item in ipairs(raw) do proposals[#proposals + 1] = cropProposal(item) end
  end
  local role = text(ours('DupRole'))
  if role ~= 'keeper' and role ~= 'duplicate' then role = nil end
  local eyes = text(ours('Eyes'))
  if eyes ~= 'all-open' and eyes ~= 'some-closed' and eyes ~= 'cant-tell' then eyes = nil end
  local similarRole = text(ours('SimilarRole'))
  if similarRole ~= 'best' and similarRole ~= 'member' then similarRole = nil end
  return {
    hasData = hasData,
    schemaVersion = integer(ours('SchemaVersion')),
    dupGroup = text(ours('DupGroup')),
    dupKind = text(ours('DupKind')),
    dupRole = role,
    dupDistance = integer(ours('DupDistance')),
    keeperReason = text(ours('KeeperReason')),
    similarSet = text(ours('SimilarSet')),
    similarRole = similarRole,
    similarSize = integer(ours('SimilarSize')),
    similarReason = text(ours('SimilarReason')),
    burstId = text(ours('BurstID')),
    burstIndex = integer(ours('BurstIndex')),
    burstSize = integer(ours('BurstSize')),
    burstBest = boolean(ours('BurstBest')) or false,
    quality = number(ours('Quality')),
    faceCount = integer(ours('FaceCount')),
    eyes = eyes,
    eyesClosedFaces = integer(ours('EyesClosedFaces')),
    cropProposals = proposals,
    cropApplied = text(ours('CropApplied')),
    engineCrop = engineCrop(props, proposals),
    decision = text(ours('Decision')),
    reviewReasons = textList(ours('ReviewReasons')),
    ratingSet = integer(ours('RatingSet')),
    labelSet = text(ours('LabelSet')),
    rating = integer(props[NS.xmp .. 'Rating']),
    label = text(props[NS.xmp .. 'Label']),
    sidecarFor = text(props[NS.photoshop .. 'SidecarForExtension']),
    hierarchicalSubject = textList(props[NS.lr .. 'hierarchicalSubject']),
    genGenerator = text(ours('GenGenerator')),
    genModel = text(ours('GenModel')),
    genPrompt = text(ours('GenPrompt')),
    genSeed = text(ours('GenSeed')), -- text: ComfyUI seeds exceed what a Lua number holds exactly
    genDerivation = text(ours('GenDerivation')),
    genBatch = text(ours('GenBatch')),
  }
end

--- Parse a DOM root into a record; returns nil, message on a non-XMP document.
function XcXmp.parse(root)
  local props, err = XcXmp.properties(root)
  if not props then return nil, err end
  return XcXmp.record(props)
end

return XcXmp
