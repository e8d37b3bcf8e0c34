import type { Metadata, Viewport } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/trpc/react";
import "./globals.css";

export const metadata: Metadata = {
  title: "Agent Engine",
  description: "Reliable, database-backed execution for AI agent jobs, with a live dashboard.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#0f1115" },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <header className="topbar">
          <div className="topbar-inner">
            <Link href="/dashboard/agents/jobs" className="brand">
              <svg
                aria-hidden="true"
                width="22"
                height="22"
                viewBox="0 0 24 24"
                fill="none"
                stroke="currentColor"
                strokeWidth="2"
                strokeLinecap="round"
                strokeLinejoin="round"
              >
                <path d="M12 2 3 7v10l9 5 9-5V7z" />
                <path d="m3 7 9 5 9-5M12 12v10" />
              </svg>
              Agent Engine
            </Link>
            <nav aria-label="Main" className="topnav">
              <Link href="/dashboard/agents/jobs">Jobs</Link>
            </nav>
          </div>
        </header>
        <TRPCReactProvider>
          <main id="main" className="container">
            {children}
          </main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
