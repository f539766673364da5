import os, subprocess, sys, statistics, re
ts="/work/main/build/release/bin/tierscope"; kv="/work/main/build/release/examples/ts-example-kvcache"
cfgs={"none":["--sampler","none"],"timer":["--sampler","timer"],"timer1ms":["--sampler","timer","--sample-period","1ms"]}
env=dict(os.environ,TIERSCOPE_SAMPLE_STATS="1")
res={k:[] for k in cfgs}; smp={k:[] for k in cfgs}
for r in range(int(sys.argv[1])):
  for k,a in cfgs.items():
    b=os.times(); p=subprocess.run([ts,"record","-q","-o","/tmp/kv.trace"]+a+["--",kv],env=env,stdout=subprocess.DEVNULL,stderr=subprocess.PIPE,text=True); e=os.times()
    res[k].append(e.children_user-b.children_user+e.children_system-b.children_system)
    m=re.search(r"samples=(\d+)",p.stderr); smp[k].append(int(m.group(1)) if m else 0)
base=statistics.median(res["none"])
for k in cfgs: print(k, "%.3f"%statistics.median(res[k]), "%+.1f%%"%(100*(statistics.median(res[k])/base-1)), "samples", statistics.median(smp[k]), [round(x,2) for x in res[k]])
