// Outgoing mail: through SMTP_URL with nodemailer, or — without SMTP — written as .eml files to
// `<data dir>/mail/` so the developer can open the link, with only the file name logged (the mail
// carries a single-use token: it never goes into a log line).
//
// Sending happens off the request path: `send` queues and returns, so how long a mail server takes
// (or whether a mail goes out at all) never shows in a response time. `drain` waits for the queue.

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Queues a mail; failures are logged, never thrown at the caller. */
  send(mail: Mail): void;
  /** Resolves once every queued mail is sent (or has failed). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export function createMailer(options: { smtpUrl?: string; from: string; folder: string; logger: Logger }): Mailer {
  const { from, folder, logger } = options;
  const pending = new Set<Promise<void>>();
  const smtp = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  const builder = smtp ? undefined : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  async function deliver(mail: Mail): Promise<void> {
    const message = { from, to: mail.to, subject: mail.subject, text: mail.text };
    if (smtp) {
      await smtp.sendMail(message);
      logger.info({ subject: mail.subject }, 'mail sent');
      return;
    }
    const built = await builder!.sendMail(message);
    await fs.mkdir(folder, { recursive: true, mode: 0o700 });
    const file = path.join(folder, `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(4).toString('hex')}.eml`);
    await fs.writeFile(file, built.message as Buffer, { mode: 0o600 });
    logger.info({ subject: mail.subject, file }, 'no SMTP_URL: mail written to the mail folder');
  }

  return {
    send(mail) {
      const job = deliver(mail)
        .catch((err: unknown) => logger.error({ err, subject: mail.subject }, 'sending a mail failed'))
        .finally(() => pending.delete(job));
      pending.add(job);
    },
    async drain() {
      while (pending.size > 0) await Promise.all(pending);
    },
    async close() {
      await this.drain();
      smtp?.close();
    },
  };
}
