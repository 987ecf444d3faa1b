--[[ LrXml-shaped DOM over a tree that Python built with lxml (a real XML
parser). Method names follow the LrXml reference: name, attributes,
childCount, childAtIndex (1-based, text nodes included), text, type.

Two modes, because the reference does not pin down how names come back:
  'qualified': name() -> localName, namespaceURI; attributes keyed by the
               qualified name, each {name = localName, value, namespace};
               xmlns declarations are not attributes.
  'prefixed':  name() -> "prefix:local" only; attributes keyed and named by
               qualified name, no namespace, xmlns declarations included.
The plug-in's reader must work with both.
--]]

local FakeXml = {}

local Node = {}
Node.__index = Node

local function wrap(data, mode)
  return setmetatable({ data = data, mode = mode }, Node)
end

function Node:type() return self.data.type end

function Node:name()
  local d = self.data
  if d.type ~= 'element' then return nil end
  if self.mode == 'prefixed' then
    if d.prefix then return d.prefix .. ':' .. d.name end
    return d.name
  end
  return d.name, d.ns
end

function Node:attributes()
  local d = self.data
  if d.type ~= 'element' then return nil end
  local out = {}
  for _, a in ipairs(d.attrs or {}) do
    local qname = a.prefix and (a.prefix .. ':' .. a.name) or a.name
    if self.mode == 'prefixed' then
      out[qname] = { name = qname, value = a.value }
    else
      out[qname] = { name = a.name, value = a.value, namespace = a.ns }
    end
  end
  if self.mode == 'prefixed' then
    for _, decl in ipairs(d.decls or {}) do
      local qname = decl.prefix and ('xmlns:' .. decl.prefix) or 'xmlns'
      out[qname] = { name = qname, value = decl.uri }
    end
  end
  return out
end

function Node:childCount()
  if self.data.type ~= 'element' then return nil end
  return #(self.data.children or {})
end

function Node:childAtIndex(i)
  local child = (self.data.children or {})[i]
  if not child then error('childAtIndex: index ' .. tostring(i) .. ' out of range', 2) end
  return wrap(child, self.mode)
end

local function collectText(d, out)
  if d.type == 'text' then out[#out + 1] = d.text return end
  for _, c in ipairs(d.children or {}) do collectText(c, out) end
end

function Node:text()
  local out = {}
  collectText(self.data, out)
  return table.concat(out)
end

function FakeXml.wrap(tree, mode) return wrap(tree, mode) end

return FakeXml
