--[[ Runs one menu command inside Lightroom: task, progress, dialogs.

Why: the only file besides the manifest-related scripts that imports
Lightroom modules for the commands; it builds the ctx XcCommands expects,
runs the command in an async task with a cancellable progress scope and
shows the summary. Kept thin: no decisions here.
--]]

local LrApplication = import 'LrApplication'
local LrDialogs = import 'LrDialogs'
local LrFileUtils = import 'LrFileUtils'
local LrFunctionContext = import 'LrFunctionContext'
local LrPrefs = import 'LrPrefs'
local LrProgressScope = import 'LrProgressScope'
local LrTasks = import 'LrTasks'
local LrXml = import 'LrXml'

local XcCommands = require 'XcCommands'
local XcPrefs = require 'XcPrefs'

local XcMenu = {}

local TITLES = {
  sync = 'Sync xmpcull results',
  collections = 'Create xmpcull collections',
  picks = 'Set pick flags from decisions',
  crops = 'Apply proposed crops',
  clear = 'Clear xmpcull data',
}

local function confirm(_, message)
  return LrDialogs.confirm(TITLES.picks, message, 'Set flags', 'Cancel') == 'ok'
end

function XcMenu.run(command)
  local title = TITLES[command]
  LrTasks.startAsyncTask(function()
    LrFunctionContext.callWithContext(title, function(context)
      LrDialogs.attachErrorDialogToFunctionContext(context)
      local catalog = LrApplication.activeCatalog()
      local progress = LrProgressScope { title = title, functionContext = context }
      progress:setCancelable(true)
      local ctx = {
        catalog = catalog, plugin = _PLUGIN, prefs = XcPrefs.resolve(LrPrefs.prefsForPlugin()),
        LrTasks = LrTasks, LrFileUtils = LrFileUtils, LrXml = LrXml, progress = progress, confirm = confirm,
      }
      local summary
      if command == 'collections' then
        summary = XcCommands.createCollections(ctx)
      else
        local photos = catalog:getTargetPhotos()
        if command == 'sync' then summary = XcCommands.sync(ctx, photos)
        elseif command == 'picks' then summary = XcCommands.setPicks(ctx, photos)
        elseif command == 'crops' then summary = XcCommands.applyCrops(ctx, photos)
        else
          local answer = LrDialogs.confirm(title, string.format(
            'Remove xmpcull fields and keywords from %d photos?', #photos), 'Clear', 'Cancel')
          if answer ~= 'ok' then progress:done() return end
          summary = XcCommands.clear(ctx, photos)
        end
      end
      progress:done()
      LrDialogs.message(title, XcCommands.describe(summary), 'info')
    end)
  end)
end

return XcMenu
