--[[ Where a photo's sidecar is, and how its bytes become XML text.

Why: xmpcull writes Adobe-style sidecars (IMG_1.xmp, shared by a RAW+JPEG
pair and marked with photoshop:SidecarForExtension) or darktable-style ones
(IMG_1.CR2.xmp). The plug-in has to look for both, in a fixed order, and must
not give a raw file's results to the JPEG beside it. Some tools re-save
sidecars as UTF-16, which an XML string parser may not take, so such text is
converted to UTF-8 first. No Lightroom imports: paths are plain strings.
--]]

local XcSidecar = {}

XcSidecar.MAX_BYTES = 4 * 1024 * 1024 -- larger "sidecars" are not ours

local function splitExtension(path)
  local stem, ext = string.match(path, '^(.*[^/\\])%.([^./\\]+)$')
  if not stem then return path, nil end
  return stem, ext
end
XcSidecar.splitExtension = splitExtension

--- Candidate sidecar paths for a photo, most specific first.
-- Each entry is {path=..., style='darktable'|'adobe'}.
function XcSidecar.candidates(photoPath)
  local stem, ext = splitExtension(photoPath)
  local out = {
    { path = photoPath .. '.xmp', style = 'darktable' },
    { path = photoPath .. '.XMP', style = 'darktable' },
  }
  if ext then
    out[#out + 1] = { path = stem .. '.xmp', style = 'adobe' }
    out[#out + 1] = { path = stem .. '.XMP', style = 'adobe' }
  end
  return out
end

--- Does an Adobe-style sidecar's SidecarForExtension allow this photo?
-- A darktable-style name already names the photo; an absent marker is accepted.
function XcSidecar.belongsTo(candidate, record, photoPath)
  if candidate.style ~= 'adobe' or not record.sidecarFor then return true end
  local _, ext = splitExtension(photoPath)
  return ext ~= nil and string.lower(ext) == string.lower(record.sidecarFor)
end

local function utf8Char(code)
  if code < 0x80 then return string.char(code) end
  if code < 0x800 then
    return string.char(0xC0 + math.floor(code / 0x40), 0x80 + code % 0x40)
  end
  if code < 0x10000 then
    return string.char(0xE0 + math.floor(code / 0x1000), 0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
  end
  return string.char(0xF0 + math.floor(code / 0x40000), 0x80 + math.floor(code / 0x1000) % 0x40,
    0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
end

local function utf16ToUtf8(bytes, littleEndian)
  local out = {}
  local i = 3 -- skip the byte-order mark
  local n = #bytes
  while i + 1 <= n do
    local a, b = string.byte(bytes, i, i + 1)
    local unitValue = littleEndian and (a + b * 256) or (a * 256 + b)
    i = i + 2
    if unitValue >= 0xD800 and unitValue <= 0xDBFF and i + 1 <= n then
      local c, d = string.byte(bytes, i, i + 1)
      local low = littleEndian and (c + d * 256) or (c * 256 + d)
      if low >= 0xDC00 and low <= 0xDFFF then
        unitValue = 0x10000 + (unitValue - 0xD800) * 0x400 + (low - 0xDC00)
        i = i + 2
      end
    end
    out[#out + 1] = utf8Char(unitValue)
  end
  return table.concat(out)
end

--- XML text for a sidecar's bytes: UTF-16 (with BOM) becomes UTF-8 and the
-- now-wrong encoding declaration is dropped.
function XcSidecar.toXmlText(bytes)
  local b1, b2 = string.byte(bytes, 1, 2)
  local converted
  if b1 == 0xFF and b2 == 0xFE then converted = utf16ToUtf8(bytes, true)
  elseif b1 == 0xFE and b2 == 0xFF then converted = utf16ToUtf8(bytes, false)
  end
  if not converted then return bytes end
  return (string.gsub(converted, '^(<%?xml[^>]-)%s+encoding%s*=%s*["\'][^"\']*["\']', '%1'))
end

return XcSidecar
