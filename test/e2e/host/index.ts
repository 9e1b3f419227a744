// Entry point VS Code loads as extensionTestsPath: runs the suites below with mocha inside the extension host
// and rejects when any test fails, which VS Code reports back to the page as a non-zero exit code.
import * as path from 'node:path';

export async function run(): Promise<void> {
  const { default: Mocha } = await import('mocha');
  const mocha = new Mocha({ ui: 'bdd', timeout: 90_000, color: false, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'extension.host.js'));
  await mocha.loadFilesAsync();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
