// Entry point of the bundled language server (server/out/server.js). `--stdio` or `--node-ipc` pick the transport.
import { startServer } from './lsp/server';

startServer();
