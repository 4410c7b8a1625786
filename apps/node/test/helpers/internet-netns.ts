/**
 * A small internet in network namespaces (DESIGN "Reach"), made and removed by the test:
 *
 *   pub      "the internet": a bridge `br0` at 88.0.0.1/24 (88.0.0.0/8 is a public range, so
 *            libp2p and Jiayi treat these addresses as public; nothing leaves the namespaces)
 *   r1, r2   home routers: `wan` on the bridge (88.0.0.11, 88.0.0.12), `lan` 192.168.N.1/24,
 *            forwarding, iptables MASQUERADE out of `wan` (a port-mapping NAT, as home routers)
 *   h1, h2   one host behind each router: 192.168.N.2/24, default route via the router
 *
 * Every interface and rule is made inside these namespaces (`ip -n`, veth peers moved straight
 * into their namespace), so deleting the namespaces removes all of it; nothing touches this
 * machine's own interfaces, routes or iptables.
 */
import { execFileSync } from 'node:child_process'

export const PUBLIC_NET = '88.0.0'

export interface Home {
  readonly router: string
  readonly host: string
  /** The router's public address (what the internet sees the host as). */
  readonly publicIp: string
  /** The host's address behind the router now. */
  hostIp: string
}

export interface Internet {
  readonly pub: string
  readonly homes: readonly [Home, Home]
  /** The address a process in `pub` listens on. */
  readonly pubIp: string
  /** Forwards TCP `port` on `home`'s public address to its host (a port forward, as UPnP makes). */
  forward(home: Home, port: number): void
  /** Takes the port forward back (flows already open through it stay, as on a real router). */
  unforward(home: Home, port: number): void
  /** Gives `home`'s host a new address behind its router (it moved); its old one is gone. */
  moveHost(home: Home, lastOctet: number): void
  remove(): void
}

function run(cmd: string, args: readonly string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why this machine cannot build it (not root, no `ip` or `iptables`), or undefined. */
export function internetUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces'
  for (const [cmd, arg] of [
    ['ip', '-V'],
    ['iptables', '--version'],
  ] as const) {
    try {
      execFileSync(cmd, [arg], { stdio: 'ignore' })
    } catch {
      return `needs ${cmd}`
    }
  }
  return undefined
}

export function createInternet(): Internet {
  const tag = `jr${process.pid}`
  const pub = `${tag}-pub`
  const names = [pub, `${tag}-r1`, `${tag}-h1`, `${tag}-r2`, `${tag}-h2`]
  const remove = () => {
    for (const n of names) {
      try {
        run('ip', ['netns', 'del', n])
      } catch {
        // not made, or already gone
      }
    }
  }
  remove()
  const homes: [Home, Home] = [1, 2].map((n) => ({
    router: `${tag}-r${n}`,
    host: `${tag}-h${n}`,
    publicIp: `${PUBLIC_NET}.1${n}`,
    hostIp: `192.168.${n}.2`,
  })) as [Home, Home]
  try {
    for (const n of names) run('ip', ['netns', 'add', n])
    for (const n of names) run('ip', ['-n', n, 'link', 'set', 'lo', 'up'])
    run('ip', ['-n', pub, 'link', 'add', 'br0', 'type', 'bridge'])
    run('ip', ['-n', pub, 'addr', 'add', `${PUBLIC_NET}.1/24`, 'dev', 'br0'])
    run('ip', ['-n', pub, 'link', 'set', 'br0', 'up'])
    homes.forEach((home, i) => {
      const n = i + 1
      // The router's uplink: `wan` in the router, its peer on the bridge.
      run('ip', [
        '-n',
        home.router,
        'link',
        'add',
        'wan',
        'type',
        'veth',
        'peer',
        'name',
        `up${n}`,
        'netns',
        pub,
      ])
      run('ip', ['-n', pub, 'link', 'set', `up${n}`, 'master', 'br0'])
      run('ip', ['-n', pub, 'link', 'set', `up${n}`, 'up'])
      run('ip', ['-n', home.router, 'addr', 'add', `${home.publicIp}/24`, 'dev', 'wan'])
      run('ip', ['-n', home.router, 'link', 'set', 'wan', 'up'])
      // The home LAN: `lan` in the router, `eth0` in the host.
      run('ip', [
        '-n',
        home.router,
        'link',
        'add',
        'lan',
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        home.host,
      ])
      run('ip', ['-n', home.router, 'addr', 'add', `192.168.${n}.1/24`, 'dev', 'lan'])
      run('ip', ['-n', home.router, 'link', 'set', 'lan', 'up'])
      run('ip', ['-n', home.host, 'addr', 'add', `${home.hostIp}/24`, 'dev', 'eth0'])
      run('ip', ['-n', home.host, 'link', 'set', 'eth0', 'up'])
      run('ip', ['-n', home.host, 'route', 'add', 'default', 'via', `192.168.${n}.1`])
      run('ip', ['netns', 'exec', home.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
      run('ip', [
        'netns',
        'exec',
        home.router,
        'iptables',
        '-t',
        'nat',
        '-A',
        'POSTROUTING',
        '-o',
        'wan',
        '-j',
        'MASQUERADE',
      ])
    })
  } catch (error) {
    remove()
    throw error
  }
  return {
    pub,
    homes,
    pubIp: `${PUBLIC_NET}.1`,
    forward(home, port) {
      portForward(home, port, '-A')
    },
    unforward(home, port) {
      portForward(home, port, '-D')
    },
    moveHost(home, lastOctet) {
      const n = home === homes[0] ? 1 : 2
      const next = `192.168.${n}.${lastOctet}`
      // The old address first: deleting a primary address deletes the secondaries with it.
      run('ip', ['-n', home.host, 'addr', 'del', `${home.hostIp}/24`, 'dev', 'eth0'])
      run('ip', ['-n', home.host, 'addr', 'add', `${next}/24`, 'dev', 'eth0'])
      run('ip', ['-n', home.host, 'route', 'replace', 'default', 'via', `192.168.${n}.1`])
      home.hostIp = next
    },
    remove,
  }
}

/** Adds (-A) or deletes (-D) the router's DNAT rule that forwards `port` to the home's host. */
function portForward(home: Home, port: number, action: '-A' | '-D'): void {
  run('ip', [
    'netns',
    'exec',
    home.router,
    'iptables',
    '-t',
    'nat',
    action,
    'PREROUTING',
    '-i',
    'wan',
    '-p',
    'tcp',
    '--dport',
    String(port),
    '-j',
    'DNAT',
    '--to-destination',
    `${home.hostIp}:${port}`,
  ])
}
