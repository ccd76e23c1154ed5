export { syncConnection, progressQuery } from './sync-connection.ts';
export { syncAll, syncAllProgressQuery } from './sync-all.ts';
export { previewConnectionSync } from './preview-connection.ts';
