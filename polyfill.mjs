// libp2p v3 uses Promise.withResolvers, which Node 20 lacks (added in Node 22).
// Every Node entry point and the test runner load this module first (`node --import`).
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}
