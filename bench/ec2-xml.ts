/**
 * EC2 response parsing benchmark: one full `DescribeInstances` page (1000 instances, shaped like
 * moto's and AWS's answers: ENIs, block devices, tags) read by the strict XML reader and mapped to
 * nodes. Baseline in the same run: `JSON.parse` of the same data as JSON (what a JSON API costs).
 * Goal: parse + map ≤ 10x the JSON.parse baseline (the XML is ~1.5x larger and read in JS, not C++);
 * either way a 1000-instance page takes far longer to fetch than to read.
 *
 * Run: `npx tsx bench/ec2-xml.ts` (BENCH_QUICK=1 for a short run).
 */
import { performance } from 'node:perf_hooks';
import { ec2NodesFromXml } from '../src/providers/ec2.js';
import { parseEc2Xml } from '../src/providers/ec2-xml.js';
import { type BenchRow, quantile, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INSTANCES = 1000;
const ROUNDS = QUICK ? 15 : 60;

function instanceXml(i: number): string {
  const ip = `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
  return (
    `<item><instanceId>i-${i.toString(16).padStart(17, '0')}</instanceId><imageId>ami-12345678</imageId>` +
    `<instanceState><code>16</code><name>running</name></instanceState>` +
    `<privateDnsName>ip-${ip.replaceAll('.', '-')}.ec2.internal</privateDnsName><dnsName/>` +
    `<reason/><keyName>ops</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/>` +
    `<instanceType>t3.micro</instanceType><launchTime>2026-11-26T05:43:52.000Z</launchTime>` +
    `<placement><availabilityZone>eu-west-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>` +
    `<monitoring><state>disabled</state></monitoring><subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId>` +
    `<privateIpAddress>${ip}</privateIpAddress><ipAddress>54.1.${(i >> 8) & 255}.${i & 255}</ipAddress>` +
    `<groupSet><item><groupId>sg-1</groupId><groupName>default</groupName></item></groupSet>` +
    `<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName>` +
    `<blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><volumeId>vol-${i}</volumeId>` +
    `<status>attached</status><attachTime>2026-11-26T05:43:52.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>` +
    `<virtualizationType>hvm</virtualizationType><clientToken/><hypervisor>xen</hypervisor>` +
    `<networkInterfaceSet><item><networkInterfaceId>eni-${i}</networkInterfaceId><subnetId>subnet-1</subnetId>` +
    `<privateIpAddress>${ip}</privateIpAddress><privateIpAddressesSet><item><privateIpAddress>${ip}</privateIpAddress>` +
    `<primary>true</primary><association><publicIp>54.1.${(i >> 8) & 255}.${i & 255}</publicIp></association></item>` +
    `</privateIpAddressesSet></item></networkInterfaceSet>` +
    `<tagSet><item><key>Name</key><value>web-${i}</value></item><item><key>role</key><value>web</value></item>` +
    `<item><key>team</key><value>plat &amp; ops</value></item></tagSet></item>`
  );
}

function instanceJson(i: number): Record<string, unknown> {
  const ip = `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
  const pub = `54.1.${(i >> 8) & 255}.${i & 255}`;
  return {
    instanceId: `i-${i.toString(16).padStart(17, '0')}`,
    imageId: 'ami-12345678',
    instanceState: { code: 16, name: 'running' },
    privateDnsName: `ip-${ip.replaceAll('.', '-')}.ec2.internal`,
    dnsName: '',
    reason: '',
    keyName: 'ops',
    amiLaunchIndex: 0,
    productCodes: [],
    instanceType: 't3.micro',
    launchTime: '2026-11-26T05:43:52.000Z',
    placement: { availabilityZone: 'eu-west-1a', groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: 'subnet-1',
    vpcId: 'vpc-1',
    privateIpAddress: ip,
    ipAddress: pub,
    groupSet: [{ groupId: 'sg-1', groupName: 'default' }],
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/sda1',
    blockDeviceMapping: [
      {
        deviceName: '/dev/sda1',
        ebs: {
          volumeId: `vol-${i}`,
          status: 'attached',
          attachTime: '2026-11-26T05:43:52.000Z',
          deleteOnTermination: true,
        },
      },
    ],
    virtualizationType: 'hvm',
    clientToken: '',
    hypervisor: 'xen',
    networkInterfaceSet: [
      {
        networkInterfaceId: `eni-${i}`,
        subnetId: 'subnet-1',
        privateIpAddress: ip,
        privateIpAddressesSet: [{ privateIpAddress: ip, primary: true, association: { publicIp: pub } }],
      },
    ],
    tagSet: [
      { key: 'Name', value: `web-${i}` },
      { key: 'role', value: 'web' },
      { key: 'team', value: 'plat & ops' },
    ],
  };
}

const ids = Array.from({ length: INSTANCES }, (_, i) => i);
const xml =
  '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
  `<requestId>r</requestId><reservationSet>${ids
    .map(
      (i) =>
        `<item><reservationId>r-${i}</reservationId><ownerId>1</ownerId><instancesSet>${instanceXml(i)}</instancesSet></item>`,
    )
    .join('')}</reservationSet><nextToken>tok</nextToken></DescribeInstancesResponse>`;
const json = JSON.stringify({
  reservationSet: ids.map((i) => ({
    reservationId: `r-${i}`,
    ownerId: '1',
    instancesSet: [instanceJson(i)],
  })),
  nextToken: 'tok',
});

/** Time the cases in interleaved rounds (so load changes on a shared machine hit all alike). */
function interleaved(cases: ReadonlyArray<() => unknown>): Array<{ median: number; p90: number }> {
  for (let w = 0; w < 3; w++) for (const fn of cases) fn();
  const times = cases.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((fn, k) => {
      const t0 = performance.now();
      fn();
      times[k]?.push(performance.now() - t0);
    });
  }
  return times.map((t) => ({ median: quantile(t, 0.5), p90: quantile(t, 0.9) }));
}

let sink = 0;
const [baseline, parseOnly, parseAndMap] = interleaved([
  () => {
    sink += (JSON.parse(json) as { reservationSet: unknown[] }).reservationSet.length;
  },
  () => {
    sink += parseEc2Xml(xml).children.length;
  },
  () => {
    sink += ec2NodesFromXml(parseEc2Xml(xml), { provider: 'bench', region: 'eu-west-1' }).length;
  },
]) as [{ median: number; p90: number }, { median: number; p90: number }, { median: number; p90: number }];
if (sink === 0) throw new Error('nothing parsed');
const check = ec2NodesFromXml(parseEc2Xml(xml), { provider: 'bench', region: 'eu-west-1' });
if (check.length !== INSTANCES || check[5]?.tags.team !== 'plat & ops') throw new Error('wrong parse');

const GOAL_RATIO = 10;
const rows: BenchRow[] = [
  {
    case: 'baseline: JSON.parse of the same page as JSON',
    value: baseline.median,
    unit: 'ms/page',
    note: `p90 ${baseline.p90.toFixed(2)} ms; ${(json.length / 1024).toFixed(0)} KiB`,
  },
  {
    case: 'parseEc2Xml (1000-instance DescribeInstances)',
    value: parseOnly.median,
    unit: 'ms/page',
    note: `p90 ${parseOnly.p90.toFixed(2)} ms; ${(xml.length / 1024).toFixed(0)} KiB; ${(parseOnly.median / baseline.median).toFixed(1)}x baseline`,
  },
  {
    case: 'parseEc2Xml + ec2NodesFromXml (to Node[])',
    value: parseAndMap.median,
    unit: 'ms/page',
    goal: `<= ${GOAL_RATIO}x baseline`,
    met: parseAndMap.median <= GOAL_RATIO * baseline.median,
    note: `p90 ${parseAndMap.p90.toFixed(2)} ms; ${(parseAndMap.median / baseline.median).toFixed(1)}x baseline`,
  },
];
writeResults('ec2-xml', rows, { instances: INSTANCES, rounds: ROUNDS, quick: QUICK });
