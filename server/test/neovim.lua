-- Drives kvmmu-language-server from Neovim's built-in LSP client (0.7+), headless.
-- Inputs (env): KVMMU_SERVER (bundle path), KVMMU_FILE (scenario), KVMMU_OUT (JSON result file).
local server = os.getenv('KVMMU_SERVER')
local file = os.getenv('KVMMU_FILE')
local out_path = os.getenv('KVMMU_OUT')
local result = { diagnostics = nil, hover = nil, errors = {} }

local function finish()
  local f = io.open(out_path, 'w')
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd('qa!')
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = 'kvmmu',
    cmd = { 'node', server, '--stdio' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
    handlers = {
      ['textDocument/publishDiagnostics'] = function(_, params)
        if params and params.uri == vim.uri_from_bufnr(buf) then result.diagnostics = params.diagnostics end
      end,
    },
  })
  if not client_id then error('start_client failed') end
  vim.lsp.buf_attach_client(buf, client_id)
  -- Wait on the notification itself (bounded).
  if not vim.wait(15000, function() return result.diagnostics ~= nil end, 20) then
    table.insert(result.errors, 'no diagnostics within 15 s')
  end
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 1, character = 1 } }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 15000)
  for _, r in pairs(responses or {}) do
    if r.result then result.hover = r.result end
    if r.err then table.insert(result.errors, vim.inspect(r.err)) end
  end
  vim.lsp.stop_client(client_id)
end)
if not ok then table.insert(result.errors, tostring(err)) end
finish()
