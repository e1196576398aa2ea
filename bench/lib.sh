# Shared by the benchmarks (sourced): run NAME CMD... runs CMD $RUNS times,
# keeps the median wall seconds in T[NAME] and the peak RSS (KiB) in
# M[NAME], and prints one line; a failure (exit above 1) ends the bench.
# The caller declares: declare -A T M; and sets BENCH_DIR and RUNS.
run() {
  local name=$1; shift
  local times=() rss=0 t m rc
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.out" "$@" >/dev/null 2>"$BENCH_DIR/err.out" || {
      rc=$?; [ "$rc" -le 1 ] || { echo "$name failed ($rc):"; cat "$BENCH_DIR/err.out"; exit 3; }; }
    # GNU time writes "Command exited with non-zero status 1" first for exit 1 (drift)
    read -r t m < <(tail -n 1 "$BENCH_DIR/time.out")
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  T[$name]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  M[$name]=$rss
  printf '  %-30s %8.2f s   peak RSS %8d KiB   (runs: %s)\n' "$name" "${T[$name]}" "$rss" "${times[*]}"
}

# ratio A B: A / B as "N.Nx"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }
