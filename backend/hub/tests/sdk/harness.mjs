// Starts the real chatr-hub binary (and, where a test needs one, a TCP proxy to cut connections
// with), the way a developer would: `chatr-hub --listen … --access-key … --upstream …`.
import { spawn } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
export const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH'
/** Service-client options for a hub on plain HTTP (the SDK's documented switch for local servers). */
export const LOCAL = { allowInsecureConnection: true }
const HUB_BIN = process.env.CHATR_HUB_BIN ?? resolve(ROOT, 'target/debug/chatr-hub')

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => ok(port))
    })
  })
}

/** Starts chatr-hub; resolves once it printed its connection string (its first stdout line). */
export async function startHub({ port, upstream } = {}) {
  port ??= await freePort()
  const args = ['--listen', `127.0.0.1:${port}`, '--access-key', KEY, '--hub', 'chat']
  if (upstream) args.push('--upstream', `chat=${upstream}`)
  const child = spawn(HUB_BIN, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const firstLine = await new Promise((ok, fail) => {
    child.once('error', fail)
    child.once('exit', (code) => fail(new Error(`chatr-hub exited with ${code}`)))
    createInterface({ input: child.stdout }).once('line', ok)
  })
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    connectionString: firstLine,
    stop: () =>
      new Promise((ok) => {
        if (child.exitCode !== null) return ok()
        child.once('exit', ok)
        child.kill('SIGINT')
      }),
  }
}

/** A TCP proxy to the hub whose live connections can be cut, as a network drop would. */
export async function startProxy(targetPort) {
  const sockets = new Set()
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  return {
    port: server.address().port,
    cut: () => {
      for (const s of sockets) s.destroy()
    },
    close: () =>
      new Promise((ok) => {
        for (const s of sockets) s.destroy()
        server.close(ok)
      }),
  }
}

/** Waits until `check()` is true, polling, or fails after `ms`. */
export async function until(check, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}
