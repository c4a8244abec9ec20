; Zed-only: the bracket pairs, for matching and rainbow brackets.

("(" @open ")" @close)
("[" @open "]" @close)
("{" @open "}" @close)
