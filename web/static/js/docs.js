// Renders /openapi.json as a plain list of endpoints with their request and response schemas.
const root = document.getElementById("endpoints");

function schemaText(schema, components) {
  if (!schema) return "";
  const ref = schema.$ref ? schema.$ref.split("/").pop() : null;
  const resolved = ref ? components[ref] : schema;
  return JSON.stringify(resolved, null, 2);
}

function render(spec) {
  const components = (spec.components && spec.components.schemas) || {};
  root.textContent = "";
  for (const [path, ops] of Object.entries(spec.paths).sort()) {
    for (const [method, op] of Object.entries(ops)) {
      const section = document.createElement("section");
      const head = document.createElement("h2");
      const verb = document.createElement("span");
      verb.className = `method ${method}`;
      verb.textContent = method.toUpperCase();
      const code = document.createElement("code");
      code.textContent = path;
      head.append(verb, code);
      section.append(head);
      if (op.description || op.summary) {
        const p = document.createElement("p");
        p.textContent = op.summary || op.description;
        section.append(p);
      }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      for (const [label, schema] of [
        ["Request body", body && body.schema],
        ...Object.entries(op.responses || {}).map(([status, r]) => [
          `Response ${status}`,
          r.content && r.content["application/json"] && r.content["application/json"].schema,
        ]),
      ]) {
        if (!schema) continue;
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = label;
        const pre = document.createElement("pre");
        pre.textContent = schemaText(schema, components);
        details.append(summary, pre);
        section.append(details);
      }
      root.append(section);
    }
  }
}

fetch("/openapi.json")
  .then((r) => r.json())
  .then(render)
  .catch((err) => { root.textContent = `Could not load the API description: ${err}`; });
