/*
 * vmdrift's shipped secret rules: credentials left on a guest.
 *
 * vmdrift compiles these into itself; the policy's `yara: {secrets: ...}`
 * switch runs them on added files (the default) or on added and changed
 * ones. A rule tagged `secret` makes a `secret` event, which names the
 * rule, the file and the line, never the matched bytes. The line is that
 * of the first match of a string not named $context* (what makes the match
 * but is not the secret). Rules see the externals filepath, filename and
 * extension; to try them with yara(1): yara -d filepath= -d filename=
 * -d extension= secrets.yar FILE. Copy this file to start rules of your
 * own (`vmdrift scan --yara DIR`).
 */

rule pem_private_key : secret
{
    meta:
        description = "a PEM private key (RSA, EC, DSA, PKCS#8, encrypted or not)"
        severity = "high"
    strings:
        /* the header, then a key's body (base64) or an encrypted one's
         * headers */
        $begin = /-----BEGIN ((RSA|EC|DSA|ENCRYPTED) )?PRIVATE KEY-----\r?\n(Proc-Type:|[A-Za-z0-9+\/=]{16})/
    condition:
        /* not in an ELF object or an ar archive: TLS libraries carry
         * their self-tests' keys (libgnutls, libmbedx509) */
        $begin and not (uint32(0) == 0x464c457f or uint32(0) == 0x72613c21)
}

rule openssh_private_key : secret
{
    meta:
        description = "an OpenSSH private key"
        severity = "high"
    strings:
        $begin = /-----BEGIN OPENSSH PRIVATE KEY-----\r?\n[A-Za-z0-9+\/=]{16}/
    condition:
        $begin and not (uint32(0) == 0x464c457f or uint32(0) == 0x72613c21)
}

rule aws_key_pair : secret
{
    meta:
        description = "an AWS access key id with a secret access key beside it"
        severity = "high"
    strings:
        $context_id = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/
        $secret = /aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9\/+]{40}\b/ nocase
        $secret_env = /AWS_SECRET_ACCESS_KEY\s*=\s*["']?[A-Za-z0-9\/+]{40}\b/
    condition:
        $context_id and ($secret or $secret_env)
}

rule github_token : secret
{
    meta:
        description = "a GitHub token (personal, OAuth, app, refresh or fine-grained)"
        severity = "high"
    strings:
        $classic = /\bgh[pousr]_[A-Za-z0-9]{36}\b/
        $fine = /\bgithub_pat_[A-Za-z0-9_]{82}\b/
    condition:
        any of them
}

rule gitlab_token : secret
{
    meta:
        description = "a GitLab personal access token"
        severity = "high"
    strings:
        $pat = /\bglpat-[A-Za-z0-9_\-]{20}\b/
    condition:
        $pat
}

rule slack_token : secret
{
    meta:
        description = "a Slack token"
        severity = "high"
    strings:
        $tok = /\bxox[abposr]-[0-9]{10,13}-[0-9A-Za-z\-]{10,}/
    condition:
        $tok
}

rule netrc_password : secret
{
    meta:
        description = "a .netrc entry with a password"
        severity = "high"
    strings:
        $entry = /(^|\n)\s*(machine\s+\S+|default)[^\n]*\bpassword\s+\S+/
        $split = /(^|\n)\s*password\s+\S+/
    condition:
        (filename == ".netrc" or filename == "_netrc") and ($entry or $split)
}

rule pgpass_password : secret
{
    meta:
        description = "a .pgpass line with a password"
        severity = "high"
    strings:
        $line = /(^|\n)[^:#\n]+:[^:\n]+:[^:\n]+:[^:\n]+:[^:\n]+/
    condition:
        filename == ".pgpass" and $line
}

rule kubeconfig_token : secret
{
    meta:
        description = "a kubeconfig with a bearer token or a client key"
        severity = "high"
    strings:
        $context_kind = /(^|\n)kind:\s*Config\b/
        $token = /(^|\n)\s+token:\s*["']?[A-Za-z0-9_\-\.]{20,}/
        $key = /(^|\n)\s+client-key-data:\s*[A-Za-z0-9+\/=]{40,}/
    condition:
        $context_kind and ($token or $key)
}
