import { z } from 'zod';

/**
 * A `--metrics-address` value: HOST:PORT, [IPv6]:PORT or :PORT (every address), or empty for no metrics
 * server. Parsed to what server.listen takes.
 */
export const metricsAddressSchema = z.union([
  z.literal('').transform(() => undefined),
  z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})$/, 'must be HOST:PORT, [IPv6]:PORT or :PORT (or empty: no metrics)')
    .transform((address) => {
      const at = address.lastIndexOf(':');
      return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port: Number(address.slice(at + 1)) };
    })
    .refine((address) => address.port >= 1 && address.port <= 65535, 'port must be 1 to 65535'),
]);
export type MetricsAddress = NonNullable<z.infer<typeof metricsAddressSchema>>;
