import { z } from "zod";
import { KEY_KINDS } from "../keys/store";

export const CreateKeyRequest = z.object({
  kind: z.enum(KEY_KINDS),
  name: z.string().trim().min(1).max(200),
});
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

export const ApiKeySchema = z.object({
  id: z.string(),
  kind: z.enum(KEY_KINDS),
  name: z.string(),
  prefix: z.string().describe("The first characters of the key, to recognise it"),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().optional().describe("The `next` cursor of the previous page"),
});

export const DeadLetterQuery = PageQuery.extend({
  status: z.enum(["pending", "all"]).default("all"),
});

export const ReplayQuery = z.object({
  force: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
});

export const DuplicatesQuery = z.object({
  status: z.enum(["pending", "merged", "rejected"]).default("pending"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
