import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulator, type EmulatorData } from './server.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, data: { type: 'string' } } });
const data = values.data ? (JSON.parse(readFileSync(values.data, 'utf8')) as EmulatorData) : undefined;
const emulator = await startEmulator({ port: Number(values.port), data });
console.log(`EMULATOR_LISTENING ${emulator.url}`);

const stop = () => {
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
