// Starts the real Chatr binary under WebDriver: tauri-driver (which runs WebKitWebDriver) on free
// ports, and a selenium session whose application is the app binary. Every process started here is
// stopped again by PID in `stop()`.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Builder } from 'selenium-webdriver'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** The app binary under test: `CHATR_APP_BIN`, else the debug build in the workspace target dir. */
export const APP_BIN = process.env.CHATR_APP_BIN ?? join(ROOT, 'target/debug/chatr-desktop')
/** Where screenshots and logs go. */
export const ARTIFACTS = process.env.CHATR_ARTIFACTS ?? join(ROOT, 'artifacts/e2e')

/** `promise`, or a rejection with `what` after `ms`. */
function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A free TCP port on loopback (the OS picks it; we release it for the child to bind). */
function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => ok(port))
    })
  })
}

async function waitForDriver(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode}`)
    try {
      const res = await fetch(`${url}/status`)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`tauri-driver did not listen on ${url} within ${timeoutMs} ms`)
}

/**
 * Launches the app through tauri-driver and returns `{ driver, stop }`.
 * `args` go to the app's command line (WebKitWebDriver does not pass `env` on to the app; `env`
 * only reaches tauri-driver and the driver).
 */
export async function launchApp({ env = {}, args = [], name = 'app' } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true })
  const port = await freePort()
  const nativePort = await freePort()
  const log = []
  const tauriDriver = spawn(
    process.env.TAURI_DRIVER ?? 'tauri-driver',
    ['--port', String(port), '--native-port', String(nativePort)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  tauriDriver.stdout.on('data', (d) => log.push(d.toString()))
  tauriDriver.stderr.on('data', (d) => log.push(d.toString()))
  const url = `http://127.0.0.1:${port}`

  let driver
  try {
    await waitForDriver(url, tauriDriver, 30_000)
    // A session that never starts (an app that exits at once) must fail the test, not hang it.
    driver = await withTimeout(
      new Builder()
        .usingServer(url)
        .withCapabilities({ browserName: 'wry', 'tauri:options': { application: APP_BIN, args } })
        .build(),
      60_000,
      'the app did not start under WebDriver within 60 s',
    )
  } catch (err) {
    tauriDriver.kill('SIGTERM')
    throw new Error(`${err.message}\n--- tauri-driver output ---\n${log.join('')}`)
  }

  async function stop() {
    try {
      // The last thing the window showed, pass or fail: the first place to look when a test fails.
      await withTimeout(saveScreenshot(driver, `${name}-last-frame`), 10_000, 'screenshot').catch(
        () => {},
      )
      await withTimeout(driver.quit(), 20_000, 'quitting the app').catch(() => {})
    } finally {
      tauriDriver.kill('SIGTERM')
      writeFileSync(join(ARTIFACTS, `${name}.log`), log.join(''))
    }
  }
  return { driver, stop }
}

/** Saves a PNG screenshot of the app's webview into the artifacts folder; returns its path. */
export async function saveScreenshot(driver, name) {
  const path = join(ARTIFACTS, `${name}.png`)
  writeFileSync(path, Buffer.from(await driver.takeScreenshot(), 'base64'))
  return path
}
