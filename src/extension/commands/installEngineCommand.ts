import * as vscode from 'vscode';
import path from 'node:path';
import type { EngineInfo } from '../../shared/protocol/engines';
import type { InstallEngineOptions } from '../../shared/protocol/jobs';
import type { LabContext } from '../labContext';
import { requireTrust } from '../workspacePaths';
import type { detectEngines } from './engineCommands';

type EngineBuild = InstallEngineOptions['package'];

/** Where the backend looks for installed engines; extension.ts passes the same folder as LESION_LAB_ENGINES_DIR. */
export function enginesFolder(lab: LabContext): string {
  return path.join(lab.extension.globalStorageUri.fsPath, 'engines');
}

const GPU_SUPPORTED = (process.platform === 'linux' || process.platform === 'win32') && process.arch === 'x64';

/**
 * "Lesion Lab: Install GPU Engine…". A VSIX cannot run npm install scripts, and tfjs-node's script is
 * what downloads libtensorflow, so the backend runs the user's npm into the extension's global storage.
 */
export async function installGpuEngine(lab: LabContext, detect: typeof detectEngines): Promise<void> {
  if (!requireTrust('Installing an engine')) return;
  const build = await pickBuild(lab);
  if (!build) return;
  const dir = enginesFolder(lab);
  const pkg = `@tensorflow/${build}@4.22.0`;
  const requirement =
    build === 'tfjs-node-gpu'
      ? 'It needs an NVIDIA GPU and driver with CUDA 11.2 and cuDNN 8.1 installed (CUDA 12 does not work: libtensorflow 2.9.1 is built against CUDA 11). '
      : '';
  const confirm = await vscode.window.showInformationMessage(
    `Install ${build}?`,
    {
      modal: true,
      detail:
        `Lesion Lab runs npm to install ${pkg} into its own folder:\n${dir}\n\n` +
        `npm downloads the package and its dependencies from the npm registry; then its install script downloads libtensorflow 2.9.1 ` +
        `from storage.googleapis.com (${build === 'tfjs-node-gpu' ? 'about 1 GB in all' : 'a few hundred MB'}). ${requirement}\n\n` +
        'This needs Node.js with npm on your PATH (VS Code’s built-in Node has none). The npm output appears in the Lesion Lab output channel.',
    },
    'Install',
  );
  if (confirm !== 'Install') return;

  lab.output.show(true);
  const result = await lab.jobs.run({ command: 'install-engine', options: { package: build, dir } }, { title: `Install ${build}`, notify: true });
  if (!result) return; // another job is running; the runner said so
  // Detect in every case: after a failed load the package may still be installed, and the Engines view should say why it does not run.
  const engines = await detect(lab);
  if (result.status !== 'done') return; // the runner showed the error (with Show Log) or the cancellation
  const info = engines?.list.find((e) => e.name === build);
  await reportResult(lab, build, info);
}

async function pickBuild(lab: LabContext): Promise<EngineBuild | undefined> {
  const status = (name: EngineBuild): string | undefined => {
    const info = lab.state.engines?.list.find((e) => e.name === name);
    return info ? `${info.available ? '$(check) available' : '$(circle-slash) now'}: ${info.reason}` : undefined;
  };
  type Item = vscode.QuickPickItem & { build: EngineBuild };
  const items: Item[] = [
    {
      build: 'tfjs-node-gpu',
      label: '$(chip) GPU build (tfjs-node-gpu)',
      description: GPU_SUPPORTED ? 'NVIDIA GPU · CUDA 11.2 + cuDNN 8.1' : `not available on ${process.platform}-${process.arch}`,
      detail: ['Native TensorFlow on an NVIDIA GPU; the fastest engine where CUDA 11.2 and cuDNN 8.1 are installed. About 1 GB to download.', status('tfjs-node-gpu')]
        .filter(Boolean)
        .join(' — '),
    },
    {
      build: 'tfjs-node',
      label: '$(server) CPU build (tfjs-node)',
      description: 'any x64 or arm64 CPU',
      detail: ['Native TensorFlow on the CPU; much faster than the wasm and cpu engines, no GPU needed.', status('tfjs-node')].filter(Boolean).join(' — '),
    },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Lesion Lab: install a native TensorFlow engine',
    placeHolder: 'Which build? Without CUDA, the webgpu engine already uses the GPU through Vulkan, Metal or D3D12.',
  });
  if (!picked) return undefined;
  if (picked.build === 'tfjs-node-gpu' && !GPU_SUPPORTED) {
    const choice = await vscode.window.showWarningMessage(
      `tfjs-node-gpu exists for Linux and Windows on x64 only, not ${process.platform}-${process.arch}. The webgpu engine uses this GPU without CUDA; for native CPU speed install the CPU build.`,
      'Install GPU Engine…',
      'Show Engines',
    );
    if (choice) void vscode.commands.executeCommand(choice === 'Show Engines' ? 'lesionLab.showEngines' : 'lesionLab.installGpuEngine');
    return undefined;
  }
  return picked.build;
}

async function reportResult(lab: LabContext, build: EngineBuild, info: EngineInfo | undefined): Promise<void> {
  if (info?.available) {
    const choice = await vscode.window.showInformationMessage(`${build} is now available on ${info.device ?? 'this machine'}.`, 'Use It for Training', 'Show Engines');
    if (choice === 'Use It for Training') {
      await vscode.workspace.getConfiguration('lesionLab').update('engine', build, vscode.ConfigurationTarget.Global);
      lab.state.update({});
    }
    if (choice === 'Show Engines') void vscode.commands.executeCommand('lesionLab.showEngines');
    return;
  }
  const why = info ? info.reason : (lab.state.enginesError ?? 'engine detection failed');
  const choice = await vscode.window.showWarningMessage(`${build} was installed, but it is not available: ${why}`, 'Show Log', 'Show Engines');
  if (choice === 'Show Log') lab.output.show(true);
  if (choice === 'Show Engines') void vscode.commands.executeCommand('lesionLab.showEngines');
}
