/**
 * Named `jiayi start` processes with a control connection each, for the multi-peer process tests:
 * create, stop, kill -9 and restart a peer on its home; make two peers contacts by swapping cards.
 */

import { eventually, jiayiJson, LOOPBACK, PeerProcess, type RunOptions, tempHome } from './cli.js'
import { type ContactView, Control } from './control.js'

export class TestPeer {
  private constructor(
    readonly name: string,
    readonly home: string,
    private readonly args: readonly string[],
    private readonly options: RunOptions,
    public proc: PeerProcess,
    public control: Control,
  ) {}

  /** `jiayi init --name NAME` in a fresh home, then `jiayi start` (loopback, no mDNS by default). */
  static async create(
    name: string,
    args: readonly string[] = LOOPBACK,
    options: RunOptions = {},
  ): Promise<TestPeer> {
    const home = await tempHome()
    await jiayiJson(home, ['init', '--name', name], options)
    return TestPeer.startOn(name, home, args, options)
  }

  /** Starts a peer on an existing home. */
  static async startOn(
    name: string,
    home: string,
    args: readonly string[] = LOOPBACK,
    options: RunOptions = {},
  ): Promise<TestPeer> {
    const proc = await PeerProcess.start(home, args, options)
    return new TestPeer(name, home, args, options, proc, await Control.open(home))
  }

  get peerId(): string {
    return this.proc.ready.peerId
  }

  get pid(): number {
    return this.proc.child.pid!
  }

  async card(): Promise<string> {
    return (await this.control.call<{ link: string }>('card')).link
  }

  /** A clean stop (SIGTERM); resolves with the exit code. */
  async stop(): Promise<number | null> {
    this.control.close()
    return this.proc.stop('SIGTERM')
  }

  /** kill -9: no shutdown at all. */
  async kill(): Promise<void> {
    this.control.close()
    await this.proc.stop('SIGKILL')
  }

  /** Starts the peer again on the same home (new ports: --listen uses port 0). */
  async restart(args: readonly string[] = this.args): Promise<void> {
    this.proc = await PeerProcess.start(this.home, args, this.options)
    this.control = await Control.open(this.home)
  }

  async contact(peerId: string): Promise<ContactView | undefined> {
    return (await this.control.contacts()).find((c) => c.peerId === peerId)
  }
}

/**
 * Makes `a` and `b` contacts the way two people who scan each other's QR codes do: each adds the
 * other's card. Returns each side's contact id for the other once both show "accepted".
 */
export async function befriend(a: TestPeer, b: TestPeer): Promise<{ bAtA: string; aAtB: string }> {
  const [cardA, cardB] = await Promise.all([a.card(), b.card()])
  const atA = await a.control.call<ContactView>('addContact', { link: cardB })
  const atB = await b.control.call<ContactView>('addContact', { link: cardA })
  await eventually(
    async () =>
      (await a.contact(b.peerId))?.state === 'accepted' && (await b.contact(a.peerId))?.state === 'accepted',
    15_000,
    `${a.name} and ${b.name} accepted`,
  )
  // Accepted is not quiet yet: a side that got the other's request after adding it answers with
  // an 'accept', which may still be in its outbox. Tests that count outbox entries or stop a peer
  // next start from empty outboxes on both sides.
  await eventually(
    async () =>
      (await a.control.call<number>('outboxSize', { contact: atA.id })) === 0 &&
      (await b.control.call<number>('outboxSize', { contact: atB.id })) === 0,
    15_000,
    `${a.name} and ${b.name} with nothing left to deliver to each other`,
  )
  return { bAtA: atA.id, aAtB: atB.id }
}

/** Texts that carry their index, so order and duplicates can be checked from the text alone. */
export function numbered(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${String(i).padStart(4, '0')} 消息`)
}
