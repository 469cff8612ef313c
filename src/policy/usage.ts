// Apart from command.ts so that main.ts can print its usage without loading the report (issue 17 item 4).
export const POLICY_USAGE = `usage: portcullis policy [--config config/gateway.yaml] [--format table|json|markdown]
       portcullis policy --diff OLD.yaml NEW.yaml [--format table|json|markdown]   exit 1 when NEW opens anything`;
