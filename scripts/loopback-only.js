'use strict';
/**
 * Preloaded (`node -r`) into the Microsoft 365 Agents Playground by scripts/playground.js.
 *
 * The Playground calls `server.listen(port)` with no host, so it listens on every interface. Its UI
 * talks to a bot that runs with authentication off (local mode) and treats the Playground's user as
 * an admin: anyone on the network who could reach the Playground's port could make changes as that
 * admin. The Playground has no option to choose the address, so this puts 127.0.0.1 into every
 * listen() call of that process that names no host. Nothing else in the Playground changes.
 */
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (args.length === 0 || typeof first === 'function') {
    // listen() / listen(callback): a random port, on loopback.
    args.unshift(0, LOOPBACK);
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback]): add the host when it is missing or empty.
    if (args.length > 1 && (args[1] === undefined || args[1] === null || args[1] === '')) args[1] = LOOPBACK;
    else if (typeof args[1] !== 'string') args.splice(1, 0, LOOPBACK);
  } else if (first && typeof first === 'object' && 'port' in first && !first.host && !first.path) {
    args[0] = { ...first, host: LOOPBACK };
  }
  return listen.apply(this, args);
};
