// Preloaded into emulators the Rust tests start (`node -r ./exit-with-parent.cjs …`): exit when the
// test process that started us is gone, even if it was killed before it could stop us.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
