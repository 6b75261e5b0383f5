# Distribution of lock acquisition waits under contention (scenario 2), one
# series per implementation, as the fraction of acquisitions that waited at
# least x (log-log, so the tail shows). Called by bench/run.sh with datadir and out set.
set terminal pngcairo size 1200,560 font "sans,10" noenhanced
set output out
set multiplot layout 1,2 title "Lock acquisition wait (lock call -> callback start), loopback Redis and MariaDB, all runs of bench/run.sh"
set logscale xy
set format x "%g"
set format y "%g"
set xlabel "wait x (ms)"
set ylabel "fraction of acquisitions that waited at least x"
set xrange [0.01:5000]
set yrange [0.0008:1.5]
set grid
set key left bottom
impls = "monei handwritten symfony_phpredis symfony_predis magento_db magento_db_monei magento_cache_monei"
name(i) = i == 1 ? "monei_concurrency" : i == 2 ? "hand-written phpredis" : i == 3 ? "symfony/lock + phpredis" : i == 4 ? "symfony/lock + Predis" : i == 5 ? "Magento DB lock: GET_LOCK" : i == 6 ? "GET_LOCK + MONEI 500 ms poll" : "Magento cache lock + MONEI poll"
set title "8 processes x 100 cycles, 1 ms of work each"
plot for [i=1:7] sprintf("%s/waits-8x1-%s.dat", datadir, word(impls, i)) using 1:2 with steps lw 2 title name(i)
set title "2 processes x 50 cycles, 20 ms of work each"
plot for [i=1:7] sprintf("%s/waits-2x20-%s.dat", datadir, word(impls, i)) using 1:2 with steps lw 2 title name(i)
unset multiplot
