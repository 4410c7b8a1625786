/** Asking for the passphrase on a terminal, without echoing it. */
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { CliError } from './errors.js'

/** Whether a person can be asked (stdin and stderr are terminals). */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true
}

/** Asks without echo; Ctrl+C (or Ctrl+D) cancels with a Usage error. */
export function askHidden(question: string): Promise<string> {
  let muted = false
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk)
      done()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  return new Promise((resolve, reject) => {
    let answered = false
    const cancel = () => {
      if (answered) return
      answered = true
      rl.close()
      process.stderr.write('\n')
      reject(new CliError('Usage', 'cancelled'))
    }
    rl.on('SIGINT', cancel)
    rl.on('close', cancel)
    rl.question(question, (answer) => {
      answered = true
      rl.close()
      process.stderr.write('\n')
      resolve(answer)
    })
    muted = true
  })
}
