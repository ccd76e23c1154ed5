export { syncConnection, progressQuery } from './sync-connection.ts';
