/**
 * A real single-node Slurm cluster on localhost for the tests (Debian 12's slurm-wlm 22.05, munge, and MariaDB for
 * slurmdbd, so that `sacct` answers): everything — keys, state, spool, logs, sockets — in a temp folder, on free
 * ports, started by `startSlurm()` and stopped by `stop()`. Inside a container: proctrack/linuxproc and task/none
 * (no cgroups), daemons as the current user (root in CI). Installed by test/e2e/setup.sh.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SlurmCluster {
  dir: string;
  /** The environment the Slurm commands need (SLURM_CONF), merged over process.env. */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm command (sacct, squeue, scancel …) against this cluster; its stdout. */
  run(command: string, args: string[]): string;
  /** The daemons' logs, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

const DAEMONS = ['munged', 'mariadbd', 'slurmdbd', 'slurmctld', 'slurmd', 'mariadb-install-db', 'sacctmgr', 'sbatch', 'sacct', 'squeue', 'scancel', 'sinfo'];

/** Why the cluster cannot start here (a missing program), or undefined. */
export function slurmMissing(): string | undefined {
  const missing = DAEMONS.filter((d) => !['/usr/sbin', '/usr/bin'].some((dir) => existsSync(path.join(dir, d))));
  return missing.length ? `not installed: ${missing.join(', ')} (test/e2e/setup.sh installs slurmctld, slurmd, slurmdbd, slurm-client, munge and mariadb-server-core)` : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => boolean, timeoutMs: number, logs: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Slurm test cluster: ${what} did not happen within ${timeoutMs / 1000} s\n${logs()}`);
}

const ok = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

export async function startSlurm(cpus = 2): Promise<SlurmCluster> {
  const missing = slurmMissing();
  if (missing) throw new Error(`A real Slurm is needed for this test, and it is ${missing}.`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-slurm-'));
  const user = os.userInfo().username;
  const host = execFileSync('hostname', ['-s'], { encoding: 'utf8' }).trim();
  for (const sub of ['munge', 'state', 'spool', 'log', 'db']) await fs.mkdir(path.join(dir, sub), { recursive: true });
  await fs.chmod(path.join(dir, 'munge'), 0o700);
  const logs = (): string =>
    ['slurmctld', 'slurmd', 'slurmdbd', 'munged', 'mysqld']
      .map((n) => {
        const f = path.join(dir, 'log', `${n}.log`);
        return existsSync(f) ? `--- ${n}.log\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}` : '';
      })
      .join('\n');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: path.join(dir, 'slurm.conf') };
  const run = (command: string, args: string[]): string => execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const pids: string[] = ['munge/munged.pid', 'mysqld.pid', 'slurmdbd.pid', 'slurmctld.pid', 'slurmd.pid'];
  const stop = async (): Promise<void> => {
    // Daemons in reverse order, each by its own pid file; then the folder.
    for (const rel of [...pids].reverse()) {
      const file = path.join(dir, rel);
      const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
      if (!Number.isInteger(pid) || pid <= 0) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      const end = Date.now() + 10_000;
      while (Date.now() < end && ok(() => process.kill(pid, 0))) await new Promise((r) => setTimeout(r, 100));
      if (ok(() => process.kill(pid, 0))) ok(() => process.kill(pid, 'SIGKILL'));
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const key = path.join(dir, 'munge', 'munge.key');
    await fs.writeFile(key, Buffer.from(Array.from({ length: 1024 }, () => Math.floor(Math.random() * 256))), { mode: 0o400 });
    const sock = path.join(dir, 'munge', 'munge.sock');
    execFileSync('munged', ['--force', '--key-file', key, '--socket', sock, '--pid-file', path.join(dir, 'munge', 'munged.pid'), '--log-file', path.join(dir, 'log', 'munged.log'), '--seed-file', path.join(dir, 'munge', 'seed')]);

    // MariaDB for slurmdbd: what lets sacct report finished tasks.
    execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${path.join(dir, 'db')}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
    const dbPort = await freePort();
    const dbSock = path.join(dir, 'mysqld.sock');
    const db = spawn('mariadbd', ['--no-defaults', `--datadir=${path.join(dir, 'db')}`, `--user=${user}`, `--socket=${dbSock}`, `--port=${dbPort}`, '--bind-address=127.0.0.1', `--pid-file=${path.join(dir, 'mysqld.pid')}`, `--log-error=${path.join(dir, 'log', 'mysqld.log')}`, '--skip-name-resolve'], { stdio: 'ignore', detached: true });
    db.unref();
    await until('MariaDB listening', () => existsSync(dbSock) && existsSync(path.join(dir, 'mysqld.pid')), 60_000, logs);
    execFileSync('mariadb', ['--no-defaults', '-S', dbSock, '-uroot', '-e', "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm'; GRANT ALL ON *.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"]);

    const [dbdPort, ctldPort, slurmdPort] = [await freePort(), await freePort(), await freePort()];
    await fs.writeFile(
      path.join(dir, 'slurmdbd.conf'),
      [
        'AuthType=auth/munge',
        `AuthInfo=socket=${sock}`,
        'DbdHost=localhost',
        'DbdAddr=127.0.0.1',
        `DbdPort=${dbdPort}`,
        `SlurmUser=${user}`,
        `PidFile=${path.join(dir, 'slurmdbd.pid')}`,
        `LogFile=${path.join(dir, 'log', 'slurmdbd.log')}`,
        'StorageType=accounting_storage/mysql',
        'StorageHost=127.0.0.1',
        `StoragePort=${dbPort}`,
        'StorageUser=slurm',
        'StoragePass=slurm',
        'StorageLoc=slurm_acct',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await fs.writeFile(
      path.join(dir, 'slurm.conf'),
      [
        'ClusterName=lesionlab',
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmUser=${user}`,
        `SlurmdUser=${user}`,
        'AuthType=auth/munge',
        `AuthInfo=socket=${sock}`,
        'CredType=cred/munge',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        `StateSaveLocation=${path.join(dir, 'state')}`,
        `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
        `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${path.join(dir, 'log', 'slurmd.log')}`,
        // No cgroups inside a container: track processes by parentage, bind nothing.
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/slurmdbd',
        'AccountingStorageHost=127.0.0.1',
        `AccountingStoragePort=${dbdPort}`,
        // Slurm's clients reach slurmdbd through munge too: this names the socket of this cluster's munged.
        `AccountingStoragePass=${sock}`,
        'JobCompType=jobcomp/none',
        'SchedulerType=sched/backfill',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'ReturnToService=2',
        'MpiDefault=none',
        'KillWait=5',
        'MinJobAge=3600',
        `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=1024 State=UNKNOWN`,
        'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    execFileSync('slurmdbd', [], { env });
    await until('slurmdbd registering the cluster', () => ok(() => run('sacctmgr', ['-i', 'add', 'cluster', 'lesionlab'])), 60_000, logs);
    execFileSync('slurmctld', [], { env });
    execFileSync('slurmd', [], { env });
    await until('the node idle', () => ok(() => /idle/.test(run('sinfo', ['-h', '-o', '%T']))), 60_000, logs);
  } catch (err) {
    const message = `${(err as Error).message}\n${logs()}`;
    await stop();
    throw new Error(message);
  }
  return { dir, env, run, logs, stop };
}
