import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// Dependencies point one way: src/app -> src/server -> src/lib; worker -> src/lib.
// The worker must never pull in Next.js or React (it would drag the web app into the worker build).
const webOnly = [
  { group: ["next", "next/*", "react", "react/*", "react-dom", "react-dom/*"], message: "Server-side domain code and the worker must not import Next.js or React." },
  { group: ["**/app/**", "@/app/*", "**/src/app/**"], message: "Only Next.js routes live in src/app; nothing imports them." },
  { group: ["**/trpc/**", "@/trpc/*", "**/components/**", "@/components/*", "**/server/**", "@/server/*"], message: "src/lib and the worker sit below the web layer." },
];

const config = [
  { ignores: ["node_modules/**", ".next/**", "src/generated/**", "test-results/**", "playwright-report/**", "e2e-artifacts/**", "next-env.d.ts"] },
  ...nextVitals,
  ...nextTs,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // App Router only: there is no pages/ directory for this rule to check.
      "@next/next/no-html-link-for-pages": "off",
    },
  },
  {
    files: ["src/lib/**/*.ts", "worker/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [...webOnly, { group: ["**/worker/**", "../../worker/*"], message: "src/lib must not depend on the worker." }] }],
    },
  },
  {
    files: ["worker/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: webOnly }] },
  },
];

export default config;
