// A small program on the TypeScript client generated from the committed openapi.json
// (openapi-typescript types, openapi-fetch calls). scripts/check_typescript_client.sh compiles it
// with tsc (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess);
// tests/clients/test_generated_clients.py runs it against a live server. It does what a new user
// does first: signs in, lists (a page and the next one), reads, creates, and handles problems.
//
//   INOVASI_PASSWORD=inovasi-demo-2026 node dist/program.js --base-url http://127.0.0.1:8000 \
//     --email sekretariat@demo.inovasi.id
//
// It prints one line per step and exits 1 at the first answer that is not the one expected.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Problem = components["schemas"]["Problem"];
type Region = components["schemas"]["RegionRead"];
type Institution = components["schemas"]["InstitutionRead"];
type Client = ReturnType<typeof createClient<paths>>;

class Unexpected extends Error {}

function fail(step: string, answer: unknown): never {
  throw new Unexpected(`FAILED ${step}: ${JSON.stringify(answer)}`);
}

/** A problem as a user reads it: its status and code, and each field error where present.
 *
 * `errors` is optional: the server leaves it out unless the request had field errors, so the
 * program looks before it reads. */
export function describe(problem: Problem): string {
  let line = `${problem.status} ${problem.code}`;
  if (problem.errors !== undefined && problem.errors !== null) {
    const pointers = problem.errors.flatMap((error) => (error.pointer ? [error.pointer] : []));
    line += ` errors=${JSON.stringify(pointers)}`;
  }
  return line;
}

async function signIn(baseUrl: string, email: string, password: string): Promise<Client> {
  const anonymous = createClient<paths>({ baseUrl });
  const { data: token, error } = await anonymous.POST("/v1/auth/token", {
    body: { email, password },
  });
  if (token === undefined) {
    fail("sign in", error);
  }
  console.log(`signed in: a ${token.token_type} token for ${token.expires_in} s`);
  const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${token.access_token}` },
  });
  const { data: me, error: meError } = await client.GET("/v1/me");
  if (me === undefined || me.email !== email) {
    fail("who am I", me ?? meError);
  }
  console.log(`signed in as ${me.name} (${me.role})`);
  return client;
}

/** The first two pages of the provinces, two at a time: paging follows `next_cursor`. */
async function listProvinces(client: Client): Promise<Region[]> {
  const first = await client.GET("/v1/regions", { params: { query: { level: 1, limit: 2 } } });
  if (first.data === undefined || first.data.items.length !== 2 || !first.data.has_more) {
    fail("list provinces", first.error);
  }
  const cursor = first.data.next_cursor;
  if (typeof cursor !== "string") {
    fail("list provinces: a next cursor", first.data);
  }
  const second = await client.GET("/v1/regions", {
    params: { query: { level: 1, limit: 2, cursor } },
  });
  if (second.data === undefined || second.data.items.length === 0) {
    fail("list provinces: the next page", second.error);
  }
  const provinces = [...first.data.items, ...second.data.items];
  const codes = provinces.map((region) => region.code);
  if (new Set(codes).size !== codes.length || provinces.some((region) => region.level !== 1)) {
    fail("list provinces: pages that do not overlap", codes);
  }
  console.log(`listed provinces, two pages: ${codes.join(", ")}`);
  return provinces;
}

async function readRegion(client: Client, code: string): Promise<Region> {
  const { data: region, error } = await client.GET("/v1/regions/{code}", {
    params: { path: { code } },
  });
  if (region === undefined || region.code !== code) {
    fail("read a region", region ?? error);
  }
  console.log(`read region ${region.code}: ${region.name}`);
  return region;
}

/** A ministry (national: no region), read back by its id. */
async function createAndRead(client: Client): Promise<Institution> {
  const name = `Kementerian Uji Klien ${crypto.randomUUID().slice(0, 8)}`;
  const { data: created, error } = await client.POST("/v1/institutions", {
    body: { name, kind: "kementerian" },
  });
  if (created === undefined || created.name !== name) {
    fail("create an institution", created ?? error);
  }
  const { data: fetched, error: readError } = await client.GET("/v1/institutions/{institution_id}", {
    params: { path: { institution_id: created.id } },
  });
  if (fetched === undefined || fetched.version !== created.version) {
    fail("read the institution back", fetched ?? readError);
  }
  console.log(`created institution ${fetched.id} (version ${fetched.version}): ${fetched.name}`);
  return fetched;
}

/** Two refusals, read as problems: one without field errors, one with. */
async function handleProblems(client: Client): Promise<void> {
  const missing = await client.GET("/v1/institutions/{institution_id}", {
    params: { path: { institution_id: crypto.randomUUID() } },
  });
  const notFound = missing.error;
  if (notFound === undefined || notFound.code !== "institution.not_found") {
    fail("read a missing institution", missing.data ?? notFound);
  }
  if (notFound.errors !== undefined && notFound.errors !== null && notFound.errors.length > 0) {
    fail("a not-found problem has no field errors", notFound);
  }
  console.log(`problem: ${describe(notFound)}`);

  const refused = await client.POST("/v1/institutions", { body: { name: "", kind: "kementerian" } });
  const invalid = refused.error;
  if (invalid === undefined || invalid.status !== 422) {
    fail("create an institution without a name", refused.data ?? invalid);
  }
  const errors = invalid.errors;
  if (errors === undefined || errors === null || errors.length === 0) {
    fail("a validation problem lists its field errors", invalid);
  }
  if (!errors.some((error) => error.pointer === "/name")) {
    fail("the field error points at /name", errors);
  }
  console.log(`problem: ${describe(invalid)}`);
}

function option(name: string): string {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (value === undefined) {
    throw new Unexpected(`usage: program.js --base-url URL --email EMAIL (missing ${name})`);
  }
  return value;
}

async function main(): Promise<void> {
  const password = process.env["INOVASI_PASSWORD"];
  if (!password) {
    throw new Unexpected("set INOVASI_PASSWORD");
  }
  const client = await signIn(option("--base-url"), option("--email"), password);
  const provinces = await listProvinces(client);
  const last = provinces[provinces.length - 1];
  if (last === undefined) {
    fail("list provinces", provinces);
  }
  await readRegion(client, last.code);
  await createAndRead(client);
  await handleProblems(client);
  console.log("OK");
}

main().catch((reason: unknown) => {
  console.error(reason instanceof Unexpected ? reason.message : reason);
  process.exitCode = 1;
});
