// pusher-js against the local relay. Prints one JSON object per line on stdout:
//   {"type":"ready","socket_id":..,"members":[..]} once both channels are subscribed,
//   {"type":"event","channel":..,"event":..,"data":..,"user_id":..} for every channel event,
//   {"type":"member_added","id":..,"info":..}, {"type":"error","data":..}, {"type":"state","current":..}.
// Usage: node client.js '{"port":P,"key":K,"secret":S,"private":"private-x","presence":"presence-x",
//                         "userId":"u","userInfo":{},"expect":N,"clientEvent":{"name":..,"data":..}}'
// Exits 0 after `expect` events, 1 on timeout. Channel auth is signed locally (customHandler), as the
// agent does; the secret only ever comes from the test's argument.
"use strict";
const crypto = require("crypto");
const Pusher = require("pusher-js");

const opts = JSON.parse(process.argv[2]);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sign = (text) => crypto.createHmac("sha256", opts.secret).update(text).digest("hex");

const pusher = new Pusher(opts.key, {
  cluster: "local",
  wsHost: "127.0.0.1",
  wsPort: opts.port,
  forceTLS: false,
  enabledTransports: ["ws"],
  disableStats: true,
  channelAuthorization: {
    customHandler: ({ socketId, channelName }, callback) => {
      if (channelName.startsWith("presence-")) {
        const channelData = JSON.stringify({ user_id: opts.userId, user_info: opts.userInfo || {} });
        callback(null, { auth: `${opts.key}:${sign(`${socketId}:${channelName}:${channelData}`)}`, channel_data: channelData });
      } else {
        callback(null, { auth: `${opts.key}:${sign(`${socketId}:${channelName}`)}` });
      }
    },
  },
});

let received = 0;
let subscribed = 0;
const wanted = [opts.private, opts.presence].filter(Boolean);
const finish = (code) => { pusher.disconnect(); setTimeout(() => process.exit(code), 50); };
setTimeout(() => { out({ type: "timeout", received }); finish(1); }, opts.timeoutMs || 10000);

pusher.connection.bind("state_change", (s) => out({ type: "state", current: s.current }));
pusher.connection.bind("error", (err) => out({ type: "error", data: err && err.data ? err.data : String(err) }));

for (const name of wanted) {
  const channel = pusher.subscribe(name);
  channel.bind("pusher:subscription_succeeded", (members) => {
    subscribed += 1;
    if (subscribed === wanted.length) {
      const presence = opts.presence ? pusher.channel(opts.presence).members : null;
      const ids = [];
      if (presence) presence.each((m) => ids.push(m.id));
      out({ type: "ready", socket_id: pusher.connection.socket_id, members: ids.sort(), me: presence ? presence.me : null });
      if (opts.clientEvent) {
        const ok = pusher.channel(opts.clientEvent.channel).trigger(opts.clientEvent.name, opts.clientEvent.data);
        out({ type: "client_event_sent", ok });
      }
    }
  });
  channel.bind("pusher:subscription_error", (err) => out({ type: "subscription_error", channel: name, data: err }));
  if (name.startsWith("presence-")) {
    channel.bind("pusher:member_added", (m) => out({ type: "member_added", id: m.id, info: m.info }));
    channel.bind("pusher:member_removed", (m) => out({ type: "member_removed", id: m.id }));
  }
  channel.bind_global((event, data, metadata) => {
    if (event.startsWith("pusher:")) return;
    out({ type: "event", channel: name, event, data, user_id: metadata ? metadata.user_id : undefined });
    received += 1;
    if (opts.expect && received >= opts.expect) finish(0);
  });
}
