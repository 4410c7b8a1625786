/**
 * A UPnP Internet Gateway Device (IGD:2) for tests, run inside a home router's network namespace
 * (helpers/fake-igd.ts starts it with `ip netns exec`). What a home router running miniupnpd does,
 * enough for libp2p's @libp2p/upnp-nat:
 *   - answers SSDP M-SEARCH on the LAN (239.255.255.250:1900) with the device description's URL;
 *   - serves the description (InternetGatewayDevice:2 > WANDevice:2 > WANConnectionDevice:2 >
 *     WANIPConnection:2) and the service's SOAP control URL on the LAN address;
 *   - GetExternalIPAddress: the router's public address; AddPortMapping / AddAnyPortMapping: an
 *     iptables DNAT rule from the public address's port to the LAN client, only for the client
 *     that asks (miniupnpd's secure mode); DeletePortMapping: the rule is removed.
 * Every action is written to stdout as one JSON line; stdin closing (the test ended) removes
 * the rules it made and ends the process. With `silent` it only reports the M-SEARCHes it hears
 * and answers none: a router without UPnP. With `private` it says its external address is a
 * private one (a router behind another NAT, or one that lies): a mapping there reaches no one.
 *
 * Usage: node fake-igd-server.mjs LAN_IP PUBLIC_IP WAN_INTERFACE [silent|private]
 */
import { execFileSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:http'

const [lanIp, publicIp, wan, mode] = process.argv.slice(2)
const silent = mode === 'silent'
const externalIp = mode === 'private' ? '10.99.0.1' : publicIp
if (lanIp === undefined || publicIp === undefined || wan === undefined) {
  process.stderr.write('usage: fake-igd-server.mjs LAN_IP PUBLIC_IP WAN_INTERFACE\n')
  process.exit(2)
}
const IGD = 'urn:schemas-upnp-org:device:InternetGatewayDevice:2'
const WAN_IP = 'urn:schemas-upnp-org:service:WANIPConnection:2'
const UDN = 'uuid:4a1f0e6c-0000-4000-8000-00000000f16d'
/** Mappings made, keyed `PROTOCOL/externalPort`. */
const mappings = new Map()

const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)

function dnat(action, m) {
  execFileSync('iptables', [
    '-t',
    'nat',
    action,
    'PREROUTING',
    '-i',
    wan,
    '-d',
    publicIp,
    '-p',
    m.protocol.toLowerCase(),
    '--dport',
    String(m.externalPort),
    '-j',
    'DNAT',
    '--to-destination',
    `${m.client}:${m.internalPort}`,
  ])
}

const description = (port) => `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <URLBase>http://${lanIp}:${port}/</URLBase>
  <device>
    <deviceType>${IGD}</deviceType>
    <friendlyName>Test router</friendlyName>
    <UDN>${UDN}</UDN>
    <deviceList>
      <device>
        <deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>
        <UDN>${UDN}1</UDN>
        <deviceList>
          <device>
            <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
            <UDN>${UDN}2</UDN>
            <serviceList>
              <service>
                <serviceType>${WAN_IP}</serviceType>
                <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
                <controlURL>/ctl/IPConn</controlURL>
                <eventSubURL>/evt/IPConn</eventSubURL>
                <SCPDURL>/WANIPCn.xml</SCPDURL>
              </service>
            </serviceList>
          </device>
        </deviceList>
      </device>
    </deviceList>
  </device>
</root>
`

const envelope = (inner) => `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>${inner}</s:Body></s:Envelope>
`
const ok = (action, args = '') =>
  envelope(`<u:${action}Response xmlns:u="${WAN_IP}">${args}</u:${action}Response>`)
const fault = (code, text) =>
  envelope(
    `<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>${text}</errorDescription></UPnPError></detail></s:Fault>`,
  )

function arg(body, name) {
  return body.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1] ?? ''
}

/** One SOAP action; returns [status, body]. */
function control(action, body, from) {
  if (action === 'GetExternalIPAddress') {
    say({ event: 'external-ip' })
    return [200, ok(action, `<NewExternalIPAddress>${externalIp}</NewExternalIPAddress>`)]
  }
  if (action === 'AddPortMapping' || action === 'AddAnyPortMapping') {
    const protocol = arg(body, 'NewProtocol').toUpperCase()
    const internalPort = Number(arg(body, 'NewInternalPort'))
    const client = arg(body, 'NewInternalClient')
    let externalPort = Number(arg(body, 'NewExternalPort'))
    if (!['TCP', 'UDP'].includes(protocol) || !(internalPort > 0) || !(externalPort > 0))
      return [500, fault(402, 'Invalid Args')]
    // Secure mode: a LAN host maps ports to itself only.
    if (client !== from) {
      say({ event: 'refused', action, client, from })
      return [500, fault(606, 'Action not authorized')]
    }
    const key = (p) => `${protocol}/${p}`
    const held = mappings.get(key(externalPort))
    if (held !== undefined && (held.client !== client || held.internalPort !== internalPort)) {
      if (action === 'AddPortMapping') return [500, fault(718, 'ConflictInMappingEntry')]
      while (mappings.has(key(externalPort))) externalPort = externalPort >= 65_535 ? 1024 : externalPort + 1
    }
    if (!mappings.has(key(externalPort))) {
      const m = {
        protocol,
        externalPort,
        internalPort,
        client,
        description: arg(body, 'NewPortMappingDescription'),
      }
      dnat('-A', m)
      mappings.set(key(externalPort), m)
      say({ event: 'add', ...m })
    } else say({ event: 'renew', protocol, externalPort })
    return [
      200,
      ok(action, action === 'AddAnyPortMapping' ? `<NewReservedPort>${externalPort}</NewReservedPort>` : ''),
    ]
  }
  if (action === 'DeletePortMapping') {
    const externalPort = Number(arg(body, 'NewExternalPort'))
    const protocol = arg(body, 'NewProtocol').toUpperCase()
    // An empty protocol (as @achingbrain/nat-port-mapper sends) deletes the port's mappings of either.
    const gone = [...mappings.entries()].filter(
      ([, m]) =>
        m.externalPort === externalPort && (protocol === '' || m.protocol === protocol) && m.client === from,
    )
    if (gone.length === 0) return [500, fault(714, 'NoSuchEntryInArray')]
    for (const [k, m] of gone) {
      dnat('-D', m)
      mappings.delete(k)
      say({ event: 'delete', ...m })
    }
    return [200, ok(action)]
  }
  return [500, fault(401, 'Invalid Action')]
}

const http = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const from = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    const xml = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'text/xml; charset="utf-8"' })
      res.end(body)
    }
    if (req.method === 'GET' && req.url === '/rootDesc.xml') {
      say({ event: 'description', from })
      return xml(200, description(http.address().port))
    }
    if (req.method === 'POST' && req.url === '/ctl/IPConn') {
      const action = String(req.headers.soapaction ?? '')
        .replace(/"/g, '')
        .split('#')[1]
      try {
        return xml(...control(action ?? '', Buffer.concat(chunks).toString('utf8'), from))
      } catch (error) {
        say({ event: 'error', message: String(error) })
        return xml(500, fault(501, 'Action Failed'))
      }
    }
    res.writeHead(404).end()
  })
})

const ssdp = createSocket({ type: 'udp4', reuseAddr: true })
ssdp.on('message', (buf, remote) => {
  const text = buf.toString('utf8')
  if (!text.startsWith('M-SEARCH')) return
  const st = text.match(/^ST:\s*(.+?)\s*$/im)?.[1]
  if (st !== 'ssdp:all' && st !== IGD && st !== 'upnp:rootdevice') return
  say({ event: 'm-search', from: remote.address, st })
  if (silent) return
  const reply = [
    'HTTP/1.1 200 OK',
    'CACHE-CONTROL: max-age=120',
    'EXT:',
    `LOCATION: http://${lanIp}:${http.address().port}/rootDesc.xml`,
    'SERVER: Linux UPnP/2.0 fake-igd/1',
    `ST: ${st === 'ssdp:all' ? IGD : st}`,
    `USN: ${UDN}::${IGD}`,
    '',
    '',
  ].join('\r\n')
  ssdp.send(reply, remote.port, remote.address)
})

function end() {
  for (const m of mappings.values()) {
    try {
      dnat('-D', m)
    } catch {
      // already gone
    }
  }
  process.exit(0)
}
process.stdin.on('end', end)
process.stdin.resume()
process.on('SIGTERM', end)

http.listen(0, lanIp, () => {
  ssdp.bind(1900, () => {
    ssdp.addMembership('239.255.255.250', lanIp)
    say({ event: 'ready', port: http.address().port })
  })
})
