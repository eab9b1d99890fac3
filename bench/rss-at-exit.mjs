// Loaded with `node --import` by the benchmark: reports the process's peak RSS
// on stderr at exit, so a whole CLI run can be measured without GNU time.
process.on("exit", () => {
  const kib = process.resourceUsage().maxRSS;
  process.stderr.write(`\n@@peak_rss_kib=${kib}\n`);
});
