/** @type {import('next').NextConfig} */
const nextConfig = {
  // SSE must reach the browser event by event: gzip would hold events back in its buffer.
  compress: false,
  poweredByHeader: false,
  // Server-only packages with native or wasm parts are loaded by Node, not bundled.
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/client", "@prisma/adapter-pg"],
};

export default nextConfig;
