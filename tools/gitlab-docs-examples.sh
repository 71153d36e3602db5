#!/usr/bin/env bash
# gitlab-docs-examples.sh: run the curl and wget examples of GitLab's generic
# packages documentation (doc/user/packages/generic_packages/index.md, now
# _index.md; every example of its versions that uses a real endpoint)
# against a registry, and check what each answers.
#
# Each example is the documented command with the documentation's
# placeholders filled in from the environment. Added to each, and nothing
# else: --silent --show-error and --write-out '%{http_code}' for curl (or
# --dump-header where the documented command writes the body to stdout),
# --server-response for wget, and an --output file for bodies the
# documentation does not save, so that status codes and bodies can be
# checked. Uploads get fresh content every time and are then downloaded
# again to check that the registry serves exactly those bytes.
#
# Required environment:
#   REGISTRY_URL    base URL, e.g. http://127.0.0.1:8080 (https://gitlab.example.com in the docs)
#   PROJECT_ID      numeric project id (24 or 1 in the docs)
#   PERSONAL_TOKEN  personal access token, api scope, Developer role or higher
#   DEPLOY_TOKEN    deploy token with read_package_registry and write_package_registry
#   DEPLOY_USER     that deploy token's username
#   JOB_TOKEN       CI/CD job token for the project ($CI_JOB_TOKEN in the docs)
# Optional:
#   PROJECT_TOKEN   project access token (api scope, Developer); its examples are skipped without it
#   PROJECT_PATH    full path of the same project, e.g. acme/tools: also runs the examples
#                   with the URL-encoded path as :id
#   CI=true         missing wget or jq fails their examples instead of skipping them
#
# Prints "ok <example>", "FAIL <example>: <why>" or "skip <example>: <why>"
# per example, then "N passed, M failed"; exits 1 if any example failed.
set -euo pipefail

for v in REGISTRY_URL PROJECT_ID PERSONAL_TOKEN DEPLOY_TOKEN DEPLOY_USER JOB_TOKEN; do
  if [[ -z "${!v:-}" ]]; then
    echo "gitlab-docs-examples.sh: $v is not set (see the header of this script)" >&2
    exit 2
  fi
done
if ! command -v curl >/dev/null; then
  echo "gitlab-docs-examples.sh: curl is not installed" >&2
  exit 2
fi

REGISTRY_URL=${REGISTRY_URL%/}
PROJECT_TOKEN=${PROJECT_TOKEN:-}
PROJECT_PATH=${PROJECT_PATH:-}

# The documentation's placeholders and predefined CI/CD variables.
GITLAB_URL=$REGISTRY_URL
CI_API_V4_URL=$REGISTRY_URL/api/v4
CI_PROJECT_ID=$PROJECT_ID
CI_JOB_TOKEN=$JOB_TOKEN
CI_COMMIT_TAG=v1.2.3
USERNAME=docs-user # "<username>": GitLab ignores it, any value works
API=$REGISTRY_URL/api/v4/projects/$PROJECT_ID/packages

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gitlab-docs-examples.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

have() { command -v "$1" >/dev/null; }
in_ci() { [[ "${CI:-}" == "true" ]]; }

passed=0
failed=0

# run NAME FUNCTION: runs one example in a fresh directory of its own.
run() {
  local name=$1 fn=$2 dir out
  dir=$(mktemp -d "$WORK/example.XXXXXX")
  if out=$(cd "$dir" && "$fn" 2>&1); then
    echo "ok $name"
    passed=$((passed + 1))
  else
    out=$(printf '%s' "$out" | tr '\r\n' '  ' | tail -c 700)
    echo "FAIL $name: ${out:-failed without a message}"
    failed=$((failed + 1))
  fi
}

# needs TOOL NAME FUNCTION: runs the example if TOOL is installed; else
# skips it, or fails it under CI=true.
needs() {
  local tool=$1 name=$2 fn=$3
  if have "$tool"; then
    run "$name" "$fn"
  elif in_ci; then
    echo "FAIL $name: $tool is not installed, and CI=true requires it (apt-get install -y $tool)"
    failed=$((failed + 1))
  else
    echo "skip $name: $tool is not installed (install it to run this example; with CI=true this is a failure)"
  fi
}

# c ARGS...: curl with the documented ARGS, printing the HTTP status code.
c() { curl --silent --show-error --write-out '%{http_code}' "$@"; }

# last_status HEADERS: the status code of the last response in a --dump-header file.
last_status() { grep -E '^HTTP/' "$1" | tail -1 | awk '{print $2}'; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# new_file PATH: fresh content (a text line and random bytes) at PATH.
new_file() {
  mkdir -p "$(dirname "$1")"
  {
    printf 'generic package example %s %s %s\n' "$1" "$(date +%s%N)" "$RANDOM"
    head -c $((512 + RANDOM % 8192)) /dev/urandom
  } >"$1"
}

# remember PKG VERSION FILE SRC: SRC is the newest upload of PKG/VERSION/FILE.
remember() {
  mkdir -p "$(dirname "$WORK/latest/$1/$2/$3")"
  cp "$4" "$WORK/latest/$1/$2/$3"
}

# latest PKG VERSION FILE: the bytes last uploaded there.
latest() {
  local f="$WORK/latest/$1/$2/$3"
  if [[ ! -f "$f" ]]; then
    echo "(nothing uploaded to $1/$2/$3 yet: an earlier example failed)" >&2
    echo /dev/null/missing
    return 1
  fi
  echo "$f"
}

status_is() { # GOT WANT [BODYFILE]
  [[ "$1" == "$2" ]] && return 0
  echo "HTTP status ${1:-none}, want $2"
  if [[ -n "${3:-}" && -s "$3" ]]; then echo "body: $(head -c 400 "$3")"; fi
  return 1
}

created_body() { # BODYFILE
  local b
  b=$(tr -d '[:space:]' <"$1")
  [[ "$b" == '{"message":"201Created"}' ]] && return 0
  echo "body '$(head -c 400 "$1")', want {\"message\":\"201 Created\"}"
  return 1
}

same_bytes() { # GOT WANT
  if [[ ! -f "$1" ]]; then echo "$1 was not written"; return 1; fi
  if [[ ! -f "$2" ]]; then echo "no upload to compare $1 with"; return 1; fi
  cmp -s "$1" "$2" && return 0
  echo "$1: $(wc -c <"$1") bytes, sha256 $(sha256 "$1"); uploaded: $(wc -c <"$2") bytes, sha256 $(sha256 "$2")"
  return 1
}

# verify PKG VERSION FILE SRC: the registry serves SRC there now; then
# remember it as the newest upload.
verify() {
  local code
  code=$(c --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" --output "$WORK/verify.out" "$API/generic/$1/$2/$3") || return 1
  status_is "$code" 200 "$WORK/verify.out" || { echo "(downloading $1/$2/$3 back)"; return 1; }
  same_bytes "$WORK/verify.out" "$4" || { echo "(downloading $1/$2/$3 back)"; return 1; }
  remember "$1" "$2" "$3" "$4"
}

# published CODE PKG VERSION FILE SRC: a documented upload answered
# 201 {"message":"201 Created"} and stored SRC.
published() {
  status_is "$1" 201 response.json && created_body response.json && verify "$2" "$3" "$4" "$5"
}

# downloaded CODE OUT PKG VERSION FILE: a documented download answered 200
# with the bytes last uploaded there.
downloaded() {
  local want
  status_is "$1" 200 "$2" || return 1
  want=$(latest "$3" "$4" "$5") || return 1
  same_bytes "$2" "$want"
}

# json_check FILE JQ_FILTER GREP_PATTERN...: FILE satisfies the jq filter
# (or, without jq, contains every fixed string).
json_check() {
  local f=$1 filter=$2
  shift 2
  if have jq; then
    jq -e "$filter" "$f" >/dev/null 2>&1 && return 0
  else
    local p ok=1
    for p in "$@"; do grep -qF -- "$p" "$f" || ok=0; done
    [[ $ok == 1 ]] && return 0
  fi
  echo "JSON does not match $filter: $(head -c 600 "$f")"
  return 1
}

# --- Publish a single file (PUT .../packages/generic/:package_name/:package_version/:file_name)

ex_publish_pat_header() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt
}

ex_publish_pat_basic() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --user "$USERNAME:$PERSONAL_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt
}

ex_publish_project_token_header() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --header "PRIVATE-TOKEN: $PROJECT_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt
}

ex_publish_project_token_basic() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --user "project_access_token_username:$PROJECT_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt
}

ex_publish_deploy_header() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --header "DEPLOY-TOKEN: $DEPLOY_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt
}

ex_publish_deploy_basic() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --user "$DEPLOY_USER:$DEPLOY_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt
}

ex_publish_job_header() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --header "JOB-TOKEN: ${CI_JOB_TOKEN}" \
    --upload-file path/to/file.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/file.txt") || return 1
  published "$code" my_package "$CI_COMMIT_TAG" file.txt path/to/file.txt
}

ex_publish_job_basic() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --user "gitlab-ci-token:${CI_JOB_TOKEN}" \
    --upload-file path/to/file.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/file.txt") || return 1
  published "$code" my_package "$CI_COMMIT_TAG" file.txt path/to/file.txt
}

# Earlier versions of the page: no --location, version 0.0.1.
ex_publish_pat_header_0_0_1() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt") || return 1
  published "$code" my_package 0.0.1 file.txt path/to/file.txt
}

# "Publish a generic package by using CI/CD" (earlier versions).
ex_publish_ci_yml_upload() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --header "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file path/to/file.txt "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/0.0.1/file.txt") || return 1
  published "$code" my_package 0.0.1 file.txt path/to/file.txt
}

# "Example request with attribute select = package_file" sends a
# PRIVATE-TOKEN header and Basic credentials at once.
ex_publish_select_package_file() {
  local code sha size
  new_file path/to/file.txt
  code=$(c --output response.json \
    --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --user "$USERNAME:${PROJECT_TOKEN:-$PERSONAL_TOKEN}" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt?select=package_file") || return 1
  # GitLab presents the package file with Grape's default status for PUT: 200.
  status_is "$code" 200 response.json || return 1
  sha=$(sha256 path/to/file.txt)
  size=$(wc -c <path/to/file.txt)
  json_check response.json \
    "(.id|type) == \"number\" and .id > 0 and (.package_id|type) == \"number\" and .package_id > 0
     and .file_name == \"file.txt\" and .size == $size and .file_sha256 == \"$sha\"
     and .file_md5 == null and .file_sha1 == null and (.file_store|type) == \"number\"
     and has(\"created_at\") and has(\"updated_at\") and (.file|type) == \"object\"" \
    "\"file_sha256\":\"$sha\"" "\"file_name\":\"file.txt\"" "\"size\":$size" "\"file_md5\":null" "\"file_sha1\":null" || return 1
  verify my_package 0.0.1 file.txt path/to/file.txt
}

# "status: hidden. Hidden packages do not appear in the UI or package API
# list endpoints." They stay installable: they download.
ex_publish_status_hidden() {
  local code
  new_file path/to/file.txt
  code=$(c --output response.json \
    --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_hidden_package/0.0.1/file.txt?status=hidden") || return 1
  status_is "$code" 201 response.json && created_body response.json || return 1
  code=$(c --output listed.json --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" "$API?package_name=my_hidden_package") || return 1
  status_is "$code" 200 listed.json || return 1
  if [[ "$(tr -d '[:space:]' <listed.json)" != "[]" ]]; then
    echo "the hidden package is listed: $(head -c 400 listed.json)"
    return 1
  fi
  code=$(c --output hidden.json --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" "$API?package_name=my_hidden_package&status=hidden") || return 1
  status_is "$code" 200 hidden.json || return 1
  json_check hidden.json 'length == 1 and .[0].name == "my_hidden_package" and .[0].version == "0.0.1" and .[0].status == "hidden"' \
    '"name":"my_hidden_package"' '"status":"hidden"' || return 1
  verify my_hidden_package 0.0.1 file.txt path/to/file.txt
}

# :id may be the URL-encoded project path.
ex_publish_and_download_by_path() {
  local code id
  id=$(printf '%s' "$PROJECT_PATH" | sed 's#/#%2F#g')
  new_file path/to/file.txt
  code=$(c --output response.json \
    --location --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --upload-file path/to/file.txt \
    "$GITLAB_URL/api/v4/projects/$id/packages/generic/my_package/1.0.0/file.txt") || return 1
  published "$code" my_package 1.0.0 file.txt path/to/file.txt || return 1
  code=$(c --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$id/packages/generic/my_package/1.0.0/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 1.0.0 file.txt
}

# --- Publish multiple files

ex_publish_multiple_files_bash() {
  local TOKEN=$PERSONAL_TOKEN PACKAGE_NAME="my_package" PACKAGE_VERSION="1.0.0" DIRECTORY_PATH="./files_to_upload"
  local file filename code n=0
  new_file "$DIRECTORY_PATH/file1.txt"
  new_file "$DIRECTORY_PATH/file2.txt"
  new_file "$DIRECTORY_PATH/file3.bin"
  new_file "$DIRECTORY_PATH/subdirectory/not-uploaded.txt" # the loop takes plain files only
  for file in "$DIRECTORY_PATH"/*; do
    if [ -f "$file" ]; then
      filename=$(basename "$file")
      code=$(c --output response.json \
        --location --header "PRIVATE-TOKEN: $TOKEN" \
        --upload-file "$file" \
        "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/$PACKAGE_NAME/$PACKAGE_VERSION/$filename") || return 1
      published "$code" "$PACKAGE_NAME" "$PACKAGE_VERSION" "$filename" "$file" || { echo "(uploading $filename)"; return 1; }
      n=$((n + 1))
    fi
  done
  [[ $n == 3 ]] || { echo "uploaded $n files, want 3"; return 1; }
}

ex_publish_multiple_files_ci() {
  local file filename code n=0
  new_file ./build/file1.txt
  new_file ./build/file2.txt
  new_file ./build/subdirectory/file3.txt # not a plain file of ./build: skipped by the loop
  for file in ./build/*; do
    if [ -f "$file" ]; then
      filename=$(basename "$file")
      code=$(c --output response.json \
        --header "JOB-TOKEN: $CI_JOB_TOKEN" \
        --upload-file "$file" \
        "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/$filename") || return 1
      published "$code" my_package "$CI_COMMIT_TAG" "$filename" "$file" || { echo "(uploading $filename)"; return 1; }
      n=$((n + 1))
    fi
  done
  [[ $n == 2 ]] || { echo "uploaded $n files, want 2"; return 1; }
}

# "Maintain directory structure": the relative path is the file name.
ex_publish_directory_structure() {
  local TOKEN=$PERSONAL_TOKEN PACKAGE_NAME="my_package" PACKAGE_VERSION="1.0.0" DIRECTORY_PATH="./files_to_upload"
  new_file "$DIRECTORY_PATH/file1.txt"
  new_file "$DIRECTORY_PATH/file2.txt"
  new_file "$DIRECTORY_PATH/subdirectory/file3.txt"
  new_file "$DIRECTORY_PATH/subdirectory/deeper/file4.tar.gz"
  find "$DIRECTORY_PATH" -type f | while read -r file; do
    relative_path=${file#"$DIRECTORY_PATH/"}
    code=$(c --output response.json \
      --location --header "PRIVATE-TOKEN: $TOKEN" \
      --upload-file "$file" \
      "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/$PACKAGE_NAME/$PACKAGE_VERSION/$relative_path") || exit 1
    published "$code" "$PACKAGE_NAME" "$PACKAGE_VERSION" "$relative_path" "$file" || { echo "(uploading $relative_path)"; exit 1; }
  done || return 1
}

# --- Download a single file (GET .../packages/generic/:package_name/:package_version/:file_name)

ex_download_pat_header() {
  local code
  code=$(c --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 0.0.1 file.txt
}

ex_download_pat_basic() {
  local code
  code=$(c --user "$USERNAME:$PERSONAL_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 0.0.1 file.txt
}

ex_download_project_token_header() {
  local code
  code=$(c --header "PRIVATE-TOKEN: $PROJECT_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 0.0.1 file.txt
}

ex_download_project_token_basic() {
  local code
  code=$(c --user "project_access_token_username:$PROJECT_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 0.0.1 file.txt
}

ex_download_deploy_header() {
  local code
  code=$(c --header "DEPLOY-TOKEN: $DEPLOY_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 0.0.1 file.txt
}

ex_download_deploy_basic() {
  local code
  code=$(c --user "$DEPLOY_USER:$DEPLOY_TOKEN" \
    --location \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" \
    --output file.txt) || return 1
  downloaded "$code" file.txt my_package 0.0.1 file.txt
}

ex_download_job_header() {
  local code
  code=$(c --header "JOB-TOKEN: ${CI_JOB_TOKEN}" \
    --location \
    --output file.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/file.txt") || return 1
  downloaded "$code" file.txt my_package "$CI_COMMIT_TAG" file.txt
}

ex_download_job_basic() {
  local code
  code=$(c --user "gitlab-ci-token:${CI_JOB_TOKEN}" \
    --location \
    --output file.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/file.txt") || return 1
  downloaded "$code" file.txt my_package "$CI_COMMIT_TAG" file.txt
}

# Earlier versions: the body goes to stdout; the status comes from --dump-header.
ex_download_pat_header_stdout() {
  curl --silent --show-error --dump-header headers.txt \
    --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" >stdout.bin || return 1
  downloaded "$(last_status headers.txt)" stdout.bin my_package 0.0.1 file.txt || return 1
  # "The response content type is application/octet-stream."
  grep -qi '^content-type: application/octet-stream' headers.txt || { echo "headers: $(cat headers.txt)"; return 1; }
}

ex_download_user_basic_stdout() {
  curl --silent --show-error --dump-header headers.txt \
    --user "user:$PERSONAL_TOKEN" \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt" >stdout.bin || return 1
  downloaded "$(last_status headers.txt)" stdout.bin my_package 0.0.1 file.txt
}

# wget (the CI/CD example's download job; and the same with a personal
# access token). --server-response shows the status; wget's exit code is 0
# on success, 8 on an error response, 6 on an authentication failure.
wget_ok() { # RC LOG OUT PKG VERSION FILE
  if [[ "$1" != 0 ]]; then echo "wget exited $1: $(tail -c 500 "$2")"; return 1; fi
  grep -qE '^ *HTTP/[0-9.]+ 200' "$2" || { echo "no 200 in the server response: $(tail -c 500 "$2")"; return 1; }
  downloaded 200 "$3" "$4" "$5" "$6"
}

ex_wget_job_token() {
  local rc=0
  wget --server-response --header="JOB-TOKEN: $CI_JOB_TOKEN" ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/0.0.1/file.txt 2>wget.log || rc=$?
  wget_ok "$rc" wget.log file.txt my_package 0.0.1 file.txt
}

ex_wget_private_token() {
  local rc=0
  wget --server-response --header="PRIVATE-TOKEN: $PERSONAL_TOKEN" "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/1.0.0/file.txt" 2>wget.log || rc=$?
  wget_ok "$rc" wget.log file.txt my_package 1.0.0 file.txt
}

ex_wget_directory_file() {
  local rc=0
  wget --server-response --header="JOB-TOKEN: $CI_JOB_TOKEN" --output-document=file3.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/1.0.0/subdirectory/file3.txt" 2>wget.log || rc=$?
  wget_ok "$rc" wget.log file3.txt my_package 1.0.0 subdirectory/file3.txt
}

ex_wget_missing_file() {
  local rc=0
  wget --server-response --header="JOB-TOKEN: $CI_JOB_TOKEN" \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/0.0.1/no-such-file.txt" 2>wget.log || rc=$?
  [[ $rc == 8 ]] || { echo "wget exited $rc, want 8 (error response): $(tail -c 500 wget.log)"; return 1; }
  grep -qE '^ *HTTP/[0-9.]+ 404' wget.log || { echo "no 404 in the server response: $(tail -c 500 wget.log)"; return 1; }
  [[ ! -e no-such-file.txt ]] || { echo "wget kept an error body as the file"; return 1; }
}

ex_wget_unknown_token() {
  local rc=0
  wget --server-response --header="JOB-TOKEN: glcbt-not-a-real-token" \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/0.0.1/file.txt" 2>wget.log || rc=$?
  [[ $rc == 6 ]] || { echo "wget exited $rc, want 6 (authentication failure): $(tail -c 500 wget.log)"; return 1; }
  grep -qE '^ *HTTP/[0-9.]+ 401' wget.log || { echo "no 401 in the server response: $(tail -c 500 wget.log)"; return 1; }
}

# --- Download multiple files

ex_download_multiple_files_bash() {
  local TOKEN=$PERSONAL_TOKEN PACKAGE_NAME="my_package" PACKAGE_VERSION="1.0.0" OUTPUT_DIR="./downloaded_files"
  local file code
  mkdir -p "$OUTPUT_DIR"
  files=("file1.txt" "file2.txt" "subdirectory/file3.txt")
  for file in "${files[@]}"; do
    code=$(c --location --header "PRIVATE-TOKEN: $TOKEN" \
      --output "$OUTPUT_DIR/$file" \
      --create-dirs \
      "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/$PACKAGE_NAME/$PACKAGE_VERSION/$file") || return 1
    downloaded "$code" "$OUTPUT_DIR/$file" "$PACKAGE_NAME" "$PACKAGE_VERSION" "$file" || { echo "(downloading $file)"; return 1; }
  done
}

ex_download_multiple_files_ci() {
  local file code
  # Setup, not part of the example: the CI loop above uploads plain files
  # only, so put subdirectory/file3.txt under the tag too.
  new_file setup/file3.txt
  code=$(c --output response.json --header "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file setup/file3.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/subdirectory/file3.txt") || return 1
  published "$code" my_package "$CI_COMMIT_TAG" subdirectory/file3.txt setup/file3.txt || { echo "(setup)"; return 1; }

  FILES=("file1.txt" "file2.txt" "subdirectory/file3.txt")
  for file in "${FILES[@]}"; do
    code=$(c --location --header "JOB-TOKEN: $CI_JOB_TOKEN" \
      --output "$file" \
      --create-dirs \
      "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/$file") || return 1
    downloaded "$code" "$file" my_package "$CI_COMMIT_TAG" "$file" || { echo "(downloading $file)"; return 1; }
  done
}

# "Download an entire package": package id from the packages API, file
# names from package_files, then each file. (--silent --show-error --fail
# added to the documented pipelines so that an error response fails the
# example instead of feeding jq an error body.)
ex_download_entire_package() {
  local TOKEN=$PERSONAL_TOKEN PROJECT_ID=$PROJECT_ID PACKAGE_NAME="my_package" PACKAGE_VERSION="1.0.0" OUTPUT_DIR="./downloaded_package"
  local PACKAGE_ID files file code n=0
  mkdir -p "$OUTPUT_DIR"
  PACKAGE_ID=$(curl --silent --show-error --fail --location --header "PRIVATE-TOKEN: $TOKEN" \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages?package_type=generic&package_name=$PACKAGE_NAME&package_version=$PACKAGE_VERSION" |
    jq -r ".[] | select(.name==\"$PACKAGE_NAME\" and .version==\"$PACKAGE_VERSION\") | .id") || return 1
  if [ -z "$PACKAGE_ID" ] || [ "$PACKAGE_ID" = "null" ]; then
    echo "Error: Package '$PACKAGE_NAME' version '$PACKAGE_VERSION' not found"
    return 1
  fi
  [[ "$PACKAGE_ID" =~ ^[0-9]+$ ]] || { echo "package id '$PACKAGE_ID' (more than one package?)"; return 1; }
  files=$(curl --silent --show-error --fail --location --header "PRIVATE-TOKEN: $TOKEN" \
    "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/$PACKAGE_ID/package_files" |
    jq -r '.[].file_name') || return 1
  if [ -z "$files" ]; then
    echo "Error: No files found in package"
    return 1
  fi
  for file in $files; do
    code=$(c --location --header "PRIVATE-TOKEN: $TOKEN" \
      --output "$OUTPUT_DIR/$file" \
      --create-dirs \
      "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/$PACKAGE_NAME/$PACKAGE_VERSION/$file") || return 1
    downloaded "$code" "$OUTPUT_DIR/$file" "$PACKAGE_NAME" "$PACKAGE_VERSION" "$file" || { echo "(downloading $file)"; return 1; }
    n=$((n + 1))
  done
  for file in file.txt file1.txt file2.txt subdirectory/file3.txt; do
    grep -qxF "$file" <<<"$files" || { echo "package_files does not list $file: $files"; return 1; }
  done
}

# --- Verify file integrity with checksums

# The documented extraction is `grep "X-Checksum-SHA256:"`, which matches
# only that exact spelling. HTTP field names are case-insensitive, and the
# name arrives as X-Checksum-Sha256 from Go servers (GitLab's Workhorse
# included) and as x-checksum-sha256 over HTTP/2, so grep -i here.
checksum_from_headers() { # HEADERS FILE PKG VERSION NAME
  local CHECKSUM ACTUAL_CHECKSUM want
  CHECKSUM=$(grep -i "X-Checksum-SHA256:" "$1" | cut -d' ' -f2 | tr -d '\r')
  ACTUAL_CHECKSUM=$(sha256sum "$2" | cut -d' ' -f1)
  want=$(latest "$3" "$4" "$5") || return 1
  if [ -z "$CHECKSUM" ]; then
    echo "no X-Checksum-SHA256 header: $(cat "$1")"
    return 1
  fi
  if [ "$CHECKSUM" = "$ACTUAL_CHECKSUM" ] && [ "$ACTUAL_CHECKSUM" = "$(sha256 "$want")" ]; then
    return 0
  fi
  echo "File integrity check failed: header $CHECKSUM, file $ACTUAL_CHECKSUM, uploaded $(sha256 "$want")"
  return 1
}

ex_checksum_from_headers() {
  local code
  code=$(c --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --location \
    --output file.txt \
    --dump-header headers.txt \
    --url "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/generic/my_package/0.0.1/file.txt") || return 1
  status_is "$code" 200 file.txt || return 1
  checksum_from_headers headers.txt file.txt my_package 0.0.1 file.txt
}

ex_checksum_from_headers_ci() {
  local code
  code=$(c --header "JOB-TOKEN: ${CI_JOB_TOKEN}" \
    --location \
    --output file.txt \
    --dump-header headers.txt \
    "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/my_package/${CI_COMMIT_TAG}/file.txt") || return 1
  status_is "$code" 200 file.txt || return 1
  checksum_from_headers headers.txt file.txt my_package "$CI_COMMIT_TAG" file.txt
}

ex_checksum_from_api() {
  local PACKAGE_ID out want
  PACKAGE_ID=$(curl --silent --show-error --fail --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --url "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages?package_type=generic&package_name=my_package&package_version=0.0.1" |
    jq -r ".[] | select(.name==\"my_package\" and .version==\"0.0.1\") | .id") || return 1
  [[ "$PACKAGE_ID" =~ ^[0-9]+$ ]] || { echo "package id '$PACKAGE_ID'"; return 1; }
  out=$(curl --silent --show-error --fail --header "PRIVATE-TOKEN: $PERSONAL_TOKEN" \
    --url "$GITLAB_URL/api/v4/projects/$PROJECT_ID/packages/$PACKAGE_ID/package_files" |
    jq '.[] | {file_name: .file_name, file_sha256: .file_sha256}') || return 1
  want=$(latest my_package 0.0.1 file.txt) || return 1
  # Every upload of file.txt is listed; the newest one's checksum among them.
  grep -qF "\"file_sha256\": \"$(sha256 "$want")\"" <<<"$out" || { echo "checksum $(sha256 "$want") not listed: $out"; return 1; }
  grep -qF '"file_name": "file.txt"' <<<"$out" || { echo "file.txt not listed: $out"; return 1; }
}

# --- Run them, in an order that gives every download an upload first.

run "publish: personal access token, PRIVATE-TOKEN header" ex_publish_pat_header
run "publish: personal access token, HTTP Basic" ex_publish_pat_basic
if [[ -n "$PROJECT_TOKEN" ]]; then
  run "publish: project access token, PRIVATE-TOKEN header" ex_publish_project_token_header
  run "publish: project access token, HTTP Basic" ex_publish_project_token_basic
else
  echo "skip publish: project access token examples: PROJECT_TOKEN is not set"
fi
run "publish: deploy token, DEPLOY-TOKEN header" ex_publish_deploy_header
run "publish: deploy token, HTTP Basic" ex_publish_deploy_basic
run "publish: CI/CD job token, JOB-TOKEN header" ex_publish_job_header
run "publish: CI/CD job token, HTTP Basic gitlab-ci-token" ex_publish_job_basic
run "publish: PRIVATE-TOKEN without --location (0.0.1)" ex_publish_pat_header_0_0_1
run "publish: .gitlab-ci.yml upload job (JOB-TOKEN, 0.0.1)" ex_publish_ci_yml_upload
run "publish: ?select=package_file" ex_publish_select_package_file
run "publish: ?status=hidden" ex_publish_status_hidden
if [[ -n "$PROJECT_PATH" ]]; then
  run "publish and download: URL-encoded project path as :id" ex_publish_and_download_by_path
else
  echo "skip publish and download: URL-encoded project path as :id: PROJECT_PATH is not set"
fi
run "publish multiple files: bash script" ex_publish_multiple_files_bash
run "publish multiple files: GitLab CI/CD loop" ex_publish_multiple_files_ci
run "publish: maintain directory structure" ex_publish_directory_structure

run "download: personal access token, PRIVATE-TOKEN header, --output" ex_download_pat_header
run "download: personal access token, HTTP Basic, --output" ex_download_pat_basic
if [[ -n "$PROJECT_TOKEN" ]]; then
  run "download: project access token, PRIVATE-TOKEN header" ex_download_project_token_header
  run "download: project access token, HTTP Basic" ex_download_project_token_basic
else
  echo "skip download: project access token examples: PROJECT_TOKEN is not set"
fi
run "download: deploy token, DEPLOY-TOKEN header" ex_download_deploy_header
run "download: deploy token, HTTP Basic" ex_download_deploy_basic
run "download: CI/CD job token, JOB-TOKEN header" ex_download_job_header
run "download: CI/CD job token, HTTP Basic gitlab-ci-token" ex_download_job_basic
run "download: PRIVATE-TOKEN to stdout, application/octet-stream" ex_download_pat_header_stdout
run "download: --user user:<token> to stdout" ex_download_user_basic_stdout
needs wget "wget: .gitlab-ci.yml download job (JOB-TOKEN)" ex_wget_job_token
needs wget "wget: PRIVATE-TOKEN" ex_wget_private_token
needs wget "wget: file in a directory" ex_wget_directory_file
needs wget "wget: missing file exits 8 with 404" ex_wget_missing_file
needs wget "wget: unknown token exits 6 with 401" ex_wget_unknown_token
run "download multiple files: bash script, --create-dirs" ex_download_multiple_files_bash
run "download multiple files: GitLab CI/CD loop" ex_download_multiple_files_ci
needs jq "download an entire package (packages API, package_files, jq)" ex_download_entire_package
run "checksums: X-Checksum-SHA256 response header" ex_checksum_from_headers
run "checksums: X-Checksum-SHA256 in a CI/CD job" ex_checksum_from_headers_ci
needs jq "checksums: file_sha256 from package_files (jq)" ex_checksum_from_api

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
