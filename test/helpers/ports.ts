import net from 'node:net';

/**
Loopback ports for real peers started by tests. 46000-46999 belongs to the test helpers;
45100-45999 is used by hand during development, so it is never handed out here.
*/
export const portRange = {first: 46_000, last: 46_999} as const;

/** Each vitest worker (VITEST_POOL_ID 1, 2, …) gets its own slice, so workers never collide. */
const sliceSize = 100;
const sliceCount = (portRange.last - portRange.first + 1) / sliceSize;

/** Addresses a peer may bind; a port is only handed out if it is free on all of them. */
const loopbackHosts = ['127.0.0.1', '127.0.0.2', '::1'];

const handedOut = new Set<number>();

/** True if `port` can be bound on `host` right now (the probe socket is closed again). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.unref();
		server.once('error', (error: NodeJS.ErrnoException) => {
			// No IPv6 on this machine: ::1 cannot be used by anyone, so it does not block the port.
			resolve(error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT');
		});
		server.listen({port, host, exclusive: true}, () => {
			server.close(() => {
				resolve(true);
			});
		});
	});
}

function workerSlice(): number {
	const id = Number.parseInt(process.env['VITEST_POOL_ID'] ?? process.env['VITEST_WORKER_ID'] ?? '1', 10);
	return Number.isFinite(id) && id > 0 ? (id - 1) % sliceCount : 0;
}

/**
A loopback port that is free on 127.0.0.1, 127.0.0.2 and ::1, from this worker's slice of
46000-46999, never the same twice in one process. Starts at a random offset so two test runs
at the same time (several engineers on one machine) rarely try the same port; callers that
start a server should still retry with a new port if binding fails.
*/
export async function freePort(): Promise<number> {
	const base = portRange.first + (workerSlice() * sliceSize);
	const offset = Math.floor(Math.random() * sliceSize);
	for (let i = 0; i < sliceSize; i++) {
		const port = base + ((offset + i) % sliceSize);
		if (handedOut.has(port)) {
			continue;
		}

		let free = true;
		for (const host of loopbackHosts) {
			if (!(await isPortFree(port, host))) {
				free = false;
				break;
			}
		}

		if (free) {
			handedOut.add(port);
			return port;
		}
	}

	throw new Error(`No free loopback port left in ${base}-${base + sliceSize - 1} for vitest worker ${workerSlice() + 1}; stop leftover test collectors (ss -ltnp 'sport >= :${base}') and retry`);
}
