/** Says which Node.js runs the suite, so CI logs show the Node 20 and Node 24 passes apart. */
export default function setup(): void {
  process.stdout.write(`fleetwatch tests on Node ${process.version}\n`);
}
